// What a command may touch of the outside: its streams and working directory, injected so tests run commands in-process.
export interface CommandIO {
  cwd: string;
  isTTY: boolean;
  /** Writes a block of text, adding the final newline. Empty text writes nothing. */
  stdout(text: string): void;
  stderr(text: string): void;
}

export function processIO(): CommandIO {
  const write = (stream: NodeJS.WriteStream) => (text: string) => {
    if (text !== '') stream.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  return {
    cwd: process.cwd(),
    isTTY: Boolean(process.stdout.isTTY) && !process.env['NO_COLOR'],
    stdout: write(process.stdout),
    stderr: write(process.stderr),
  };
}
