import { Command, CommanderError, Option } from 'commander';
import { StepFailure } from '../engine/step-failure.js';
import { killAllProcessGroups } from '../executors/process-groups.js';
import { EXIT, FlowError } from '../model/errors.js';
import { processIO, type CommandIO } from './io.js';

declare const __FLOW_VERSION__: string | undefined;
const VERSION = typeof __FLOW_VERSION__ === 'string' ? __FLOW_VERSION__ : '0.0.0-dev';

// Builds the command line; each command's module is imported only when that command runs.
export function buildProgram(io: CommandIO, setExit: (code: number) => void, signal: AbortSignal = new AbortController().signal): Command {
  const program = new Command('flow')
    .description('Run YAML workflows of shell commands, HTTP calls and AI model calls; resumable, CI-friendly.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s.trimEnd()), writeErr: (s) => io.stderr(s.trimEnd()) })
    .showHelpAfterError('(run flow --help for usage)')
    // Options belong to the command they follow: `flow runs prune --state X` gives X to prune, not to runs.
    .enablePositionalOptions();

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

  const run = program
    .command('run')
    .description('run a workflow; every state change is recorded so the run can be resumed')
    .argument('<file>', 'the workflow file')
    .option('--input <name=value>', 'an input value (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--inputs <file>', 'inputs from a JSON or YAML file')
    .option('--dry-run', 'print what would run, and do nothing');
  withDriverOptions(run).action(async (file: string, options: import('./commands/run.js').RunCommandOptions) => {
    const { runCommand } = await import('./commands/run.js');
    setExit(await runCommand(file, { ...options, memorySaving: true }, io, signal));
  });

  const resume = program
    .command('resume')
    .description('continue a failed or interrupted run under its id; what succeeded is not run again')
    .argument('<run-id>', 'the run (flow runs lists them)')
    .option('--from <step>', 're-run this step and every step after it, even those that succeeded')
    .option('--allow-changed', 'run the workflow file as it is now; changed steps and all after them run again')
    .option('--plan', 'print what would be restored and what would run, and run nothing')
    .option(
      '--input <name=value>',
      'a secret input again (secrets are stored masked; repeatable)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--inputs <file>', 'secret inputs from a JSON or YAML file');
  withDriverOptions(resume).action(async (runId: string, options: import('./commands/resume.js').ResumeCommandOptions) => {
    const { resumeCommand } = await import('./commands/resume.js');
    setExit(await resumeCommand(runId, { ...options, memorySaving: true }, io, signal));
  });

  const runs = program
    .command('runs')
    .description('list recorded runs, newest first (as text the newest 20; --json lists all)')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(['running', 'succeeded', 'failed', 'interrupted']))
    .option('--workflow <name>', 'only runs of this workflow (its name)')
    .option('--limit <n>', 'at most this many runs')
    .option('--json', 'print a JSON array')
    .option('--state <path>', STATE_HELP)
    .action(async (options: import('./commands/runs.js').RunsOptions) => {
      const { runsCommand } = await import('./commands/runs.js');
      setExit(await runsCommand(options, io));
    });
  runs
    .command('prune')
    .description('delete finished runs that ended before a time ago, with their steps, output and child runs; then shrink the file')
    .requiredOption('--older-than <duration>', 'runs that ended longer ago than this go (30d, 12h)')
    .option('--keep <n>', 'keep the newest n runs whatever their age (default 0)')
    .option('--state <path>', STATE_HELP)
    .action(async (options: import('./commands/runs.js').PruneOptions) => {
      const { pruneCommand } = await import('./commands/runs.js');
      // `flow runs --state X prune`: the state file may be named before the subcommand too.
      setExit(await pruneCommand({ ...options, state: options.state ?? runs.opts<{ state?: string }>().state }, io));
    });

  program
    .command('show')
    .description("show a run: its status, each step's status, attempts, duration and result, and its child runs")
    .argument('<run-id>', 'the run (flow runs lists them)')
    .option('--json', 'print a JSON object')
    .option('--html', 'print the run as one self-contained HTML page (graph, timeline, output, AI cost) that opens offline')
    .option('--state <path>', STATE_HELP)
    .action(async (runId: string, options: import('./commands/show.js').ShowOptions) => {
      const { showCommand } = await import('./commands/show.js');
      setExit(await showCommand(runId, options, io));
    });

  program
    .command('logs')
    .description("print the output a run's steps wrote, as recorded (secrets masked)")
    .argument('<run-id>', 'the run (flow runs lists them)')
    .argument('[step]', 'only this step (step[N]: one for_each item)')
    .option('--attempt <n>', 'only this attempt of the step (default: every attempt)')
    .option('-f, --follow', 'keep printing the output of a run that is still going, as it comes, until it ends')
    .option('--state <path>', STATE_HELP)
    .action(async (runId: string, step: string | undefined, options: import('./commands/logs.js').LogsOptions) => {
      const { logsCommand } = await import('./commands/logs.js');
      setExit(await logsCommand(runId, step, options, io));
    });

  withServerOptions(
    program.command('serve').description('serve the runs of the state file over HTTP (an API under /api/v1), until Ctrl-C'),
  ).action(async (options: import('./commands/serve.js').ServeOptions) => {
    const { serveCommand } = await import('./commands/serve.js');
    setExit(await serveCommand(options, io, signal));
  });

  withServerOptions(program.command('ui').description('flow serve with the dashboard, opened in the browser (or its URL printed)'))
    .option('--no-open', 'print the URL only; do not open a browser')
    .action(async (options: import('./commands/serve.js').ServeOptions) => {
      const { serveCommand } = await import('./commands/serve.js');
      setExit(await serveCommand({ ...options, ui: true }, io, signal));
    });

  program
    .command('cache')
    .description('manage the step cache')
    .command('clear')
    .description('remove every cached step result')
    .option('--state <path>', STATE_HELP)
    .action(async (options: import('./commands/cache.js').CacheOptions) => {
      const { cacheClearCommand } = await import('./commands/cache.js');
      setExit(await cacheClearCommand(options, io));
    });

  program
    .command('state')
    .description('manage where runs are kept')
    .command('migrate')
    .description("bring the state file's or database's schema to this flow's version (flow does so on first use too)")
    .option('--state <path>', STATE_HELP)
    .action(async (options: import('./commands/state.js').StateOptions) => {
      const { stateMigrateCommand } = await import('./commands/state.js');
      setExit(await stateMigrateCommand(options, io));
    });

  program
    .command('worker')
    .description('take step attempts of --remote runs from the job queue and run them, until SIGTERM (which lets them finish)')
    .option('--state <path>', STATE_HELP)
    .option('--queue <url>', 'the job queue: redis://… (default: $FLOW_QUEUE, else the postgres:// state store)')
    .option('--concurrency <n>', 'at most this many attempts at once', '4')
    .option(
      '--pool <name>',
      'take the jobs of steps with runs_on: NAME (repeatable; default: the default pool)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(async (options: import('./commands/worker.js').WorkerOptions) => {
      const { workerCommand } = await import('./commands/worker.js');
      setExit(await workerCommand(options, io, signal));
    });

  program
    .command('graph')
    .description('print the plan of a workflow as a Mermaid flowchart')
    .argument('<file>', 'the workflow file')
    .action(async (file: string) => {
      const { graphCommand } = await import('./commands/graph.js');
      setExit(await graphCommand(file, io));
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

const STATE_HELP = 'the state file (default .flow/state.db, or $FLOW_STATE), or a postgres:// URL';

/** The options of the commands that serve the state file (serve, ui). */
function withServerOptions(command: Command): Command {
  return command
    .option('--host <address>', 'the address to listen on; off loopback FLOW_SERVE_TOKEN must be set', '127.0.0.1')
    .option('--port <n>', 'the port (0: any free port)', '7870')
    .option('--state <path>', STATE_HELP)
    .option('--root <dir>', 'the directory of the workflow files it lists and starts (default: the working directory)')
    .option('--read-only', 'refuse every request that would change something');
}

/** The options of the commands that drive a run (run, resume): see DriverFlags. */
function withDriverOptions(command: Command): Command {
  return command
    .option('--state <path>', 'the state file (default .flow/state.db, or $FLOW_STATE)')
    .option('--max-concurrency <n>', 'at most this many steps at once')
    .option('--no-cache', 'neither read nor write the step cache')
    .option('--remote', 'run the action steps on flow worker processes, through the job queue')
    .option('--queue <url>', 'the job queue of --remote: redis://… (default: $FLOW_QUEUE, else the postgres:// state store)')
    .addOption(
      new Option('--durability <mode>', 'normal: a killed process loses nothing; full: also an fsync on every commit')
        .choices(['normal', 'full'])
        .default('normal'),
    )
    .addOption(
      new Option('--reporter <name>', 'how progress is shown: auto (live in a terminal, github in GitHub Actions, else plain)')
        .choices(['auto', 'live', 'plain', 'github'])
        .default('auto'),
    )
    .option('--json', 'NDJSON events on stdout, one per line (the run outputs are in the last one)')
    .option('--junit <file>', 'write a JUnit XML report: one testcase per step')
    .option('-v, --verbose', "stream every step's output, prefixed with its id (the live view shows only a failed step's last lines)");
}

// The one place where errors become messages and exit codes.
export async function main(argv: readonly string[], io: CommandIO = processIO(), signal?: AbortSignal): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => (exitCode = code), signal ?? interruptSignal());
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (err) {
    return renderError(err, io);
  }
}

// SIGINT, SIGTERM and SIGHUP (a closed terminal, a dropped ssh) stop the run (its steps' process groups are
// killed) and leave it resumable.
// A second one kills every step's process group at once and exits without waiting.
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = (name: 'SIGINT' | 'SIGTERM' | 'SIGHUP', code: number) => () => {
    if (controller.signal.aborted) {
      killAllProcessGroups();
      process.exit(code);
    }
    controller.abort(new StepFailure('interrupted', `interrupted by ${name}`));
  };
  process.on('SIGINT', stop('SIGINT', EXIT.interrupted));
  process.on('SIGTERM', stop('SIGTERM', EXIT.terminated));
  process.on('SIGHUP', stop('SIGHUP', EXIT.hangup));
  return controller.signal;
}

function renderError(err: unknown, io: CommandIO): number {
  if (err instanceof CommanderError) {
    // commander has printed its message already
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help'
      ? EXIT.ok
      : EXIT.invalid;
  }
  if (err instanceof FlowError) {
    io.stderr(`flow: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}`);
    return err.exitCode;
  }
  // Whatever a bug interrupted, no step's processes outlive flow.
  killAllProcessGroups();
  const detail = err instanceof Error ? (process.env['FLOW_DEBUG'] ? (err.stack ?? err.message) : err.message) : String(err);
  io.stderr(
    `flow: internal error (this is a bug in flow): ${detail}\n  please report it with the command you ran; FLOW_DEBUG=1 shows the stack`,
  );
  return EXIT.internal;
}
