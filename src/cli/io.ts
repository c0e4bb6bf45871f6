import type { Terminal } from '../report/output-mode.js';

// What a command may touch of the outside: its streams and working directory, injected so tests run commands in-process.
export interface CommandIO {
  cwd: string;
  /** Whether stdout is a terminal that wants colour (flow validate's styling). */
  isTTY: boolean;
  /** Writes a block of text, adding the final newline. Empty text writes nothing. */
  stdout(text: string): void;
  stderr(text: string): void;
  /** The environment the output mode is chosen from (default: the process's). */
  env?: Record<string, string | undefined>;
  /** stderr as a terminal, for the live view (absent: not a terminal). */
  terminal?: Terminal & { stream: NodeJS.WriteStream };
}

export function processIO(): CommandIO {
  const write = (stream: NodeJS.WriteStream) => {
    // A reader that went away (`flow run --json | head -3`) stops reading, not the run: what would have been written
    // is dropped, and the run goes on to be recorded as it ends.
    let closed = false;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      closed = true;
    });
    return (text: string) => {
      if (text !== '' && !closed) stream.write(text.endsWith('\n') ? text : `${text}\n`);
    };
  };
  const stderr = process.stderr;
  return {
    cwd: process.cwd(),
    isTTY: Boolean(process.stdout.isTTY) && !process.env['NO_COLOR'],
    stdout: write(process.stdout),
    stderr: write(stderr),
    env: process.env,
    ...(stderr.isTTY
      ? { terminal: { isTTY: true, colourDepth: stderr.getColorDepth(), stdoutIsTTY: Boolean(process.stdout.isTTY), stream: stderr } }
      : {}),
  };
}
