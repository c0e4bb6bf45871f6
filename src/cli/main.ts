import { Command, CommanderError, Option } from 'commander';
import { EXIT, FlowError } from '../model/errors.js';
import { processIO, type CommandIO } from './io.js';

declare const __FLOW_VERSION__: string | undefined;
const VERSION = typeof __FLOW_VERSION__ === 'string' ? __FLOW_VERSION__ : '0.0.0-dev';

// Builds the command line; each command's module is imported only when that command runs.
export function buildProgram(io: CommandIO, setExit: (code: number) => void): Command {
  const program = new Command('flow')
    .description('Run YAML workflows of shell commands, HTTP calls and AI model calls; resumable, CI-friendly.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s.trimEnd()), writeErr: (s) => io.stderr(s.trimEnd()) })
    .showHelpAfterError('(run flow --help for usage)');

  program
    .command('validate')
    .description('check workflow files; every problem is reported at its file:line:col')
    .argument('<files...>', 'workflow files or globs (workflows/*.yaml)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'github']).default('text'))
    .option('--strict', 'treat warnings as errors')
    .action(async (files: string[], options: { format: string; strict?: boolean }) => {
      const { validateCommand } = await import('./commands/validate.js');
      setExit(await validateCommand(files, options, io));
    });

  program
    .command('schema')
    .description('print the JSON Schema of the workflow language')
    .action(async () => {
      const { schemaCommand } = await import('./commands/schema.js');
      setExit(schemaCommand(io));
    });

  return program;
}

// The one place where errors become messages and exit codes.
export async function main(argv: readonly string[], io: CommandIO = processIO()): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (err) {
    return renderError(err, io);
  }
}

function renderError(err: unknown, io: CommandIO): number {
  if (err instanceof CommanderError) {
    // commander has printed its message already
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.invalid;
  }
  if (err instanceof FlowError) {
    io.stderr(`flow: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}`);
    return err.exitCode;
  }
  const detail = err instanceof Error ? (process.env['FLOW_DEBUG'] ? (err.stack ?? err.message) : err.message) : String(err);
  io.stderr(`flow: internal error (this is a bug in flow): ${detail}\n  please report it with the command you ran; FLOW_DEBUG=1 shows the stack`);
  return EXIT.internal;
}
