// Errors that stop a command, each of one kind with its exit code; rendered in one place (src/cli/main.ts).

export const EXIT = { ok: 0, failed: 1, invalid: 2, internal: 70, busy: 75, hangup: 129, interrupted: 130, terminated: 143 } as const;

export abstract class FlowError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** Bad flags or arguments: the fault is in the command line. */
export class UsageError extends FlowError {
  readonly code = 'usage';
  readonly exitCode = EXIT.invalid;
}

/** A file named on the command line cannot be read. */
export class FileNotReadableError extends FlowError {
  readonly code = 'file-not-readable';
  readonly exitCode = EXIT.invalid;

  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot read '${path}': ${reason}`, 'check the path; globs like workflows/*.yaml are expanded by flow too');
  }
}

/** The state file cannot be opened or migrated. */
export class StateFileError extends FlowError {
  readonly code = 'state-file';
  readonly exitCode = EXIT.invalid;

  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot use the state file '${path}': ${reason}`, 'pass another file with --state PATH (or FLOW_STATE), or move this one aside');
  }
}

/**
 * better-sqlite3's compiled part is missing, or built for another Node (its ABI): a fault of the installation, not
 * of the state file, so the hint is the rebuild, not another --state.
 */
export class SqliteModuleError extends FlowError {
  readonly code = 'sqlite-module';
  readonly exitCode = EXIT.invalid;

  constructor(reason: string) {
    super(
      `the state file's SQLite module cannot be loaded: ${reason}`,
      "run `npm rebuild better-sqlite3` in flow's directory (it is built for one Node version; rebuild after changing Node)",
    );
  }
}

/** A PostgreSQL store (--state postgres://…) cannot be reached or used; `url` is shown without its password. */
export class StateStoreError extends FlowError {
  readonly code = 'state-store';
  readonly exitCode = EXIT.invalid;

  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`cannot use the state store ${url}: ${reason}`, 'check that the server runs and the URL (--state or FLOW_STATE) is right');
  }
}

/** The job queue of --remote and `flow worker` (--queue, FLOW_QUEUE) cannot be reached or used; `url` without its password. */
export class QueueError extends FlowError {
  readonly code = 'queue';
  readonly exitCode = EXIT.invalid;

  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`cannot use the job queue ${url}: ${reason}`, 'check that the server runs and the URL (--queue or FLOW_QUEUE) is right');
  }
}

/** A report file asked for (--junit) cannot be written. */
export class ReportFileError extends FlowError {
  readonly code = 'report-file';
  readonly exitCode = EXIT.invalid;

  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot write the report '${path}': ${reason}`, 'name a file in a directory flow can write (--junit FILE)');
  }
}

/** Inputs given on the command line do not fit the workflow's declared inputs. */
export class InputError extends FlowError {
  readonly code = 'input';
  readonly exitCode = EXIT.invalid;
}

/** The workflow did not validate; its diagnostics have been printed. */
export class InvalidWorkflowError extends FlowError {
  readonly code = 'invalid-workflow';
  readonly exitCode = EXIT.invalid;
}

/** A run named on the command line is not in the state file. */
export class UnknownRunError extends FlowError {
  readonly code = 'unknown-run';
  readonly exitCode = EXIT.invalid;

  constructor(
    readonly runId: string,
    statePath: string,
  ) {
    super(`no run '${runId}' in ${statePath}`, 'flow runs lists the recorded runs (--state PATH if they were recorded elsewhere)');
  }
}

/** Another live process drives the run: two drivers would run its steps twice. */
export class RunOwnedError extends FlowError {
  readonly code = 'run-owned';
  readonly exitCode = EXIT.busy;
}

/** This process no longer owns the run it was driving (another took it over): it stops without writing. */
export class LeaseLostError extends FlowError {
  readonly code = 'lease-lost';
  readonly exitCode = EXIT.busy;
}

/** A resume that cannot go ahead as asked: the workflow changed, a secret is missing, a step is unknown. */
export class ResumeError extends FlowError {
  readonly code = 'resume';
  readonly exitCode = EXIT.invalid;
}
