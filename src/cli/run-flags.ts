import { UsageError } from '../model/errors.js';
import type { OutputFlags } from '../report/output-mode.js';
import type { Durability } from '../state/sqlite-open.js';
import type { RemoteDriver } from '../remote/open-remote.js';
import type { Executor } from '../executors/executor.js';
import type { Workflow } from '../model/workflow.js';

// The flags `flow run` and `flow resume` share, checked before anything is opened.

/** What commander gives both commands (src/cli/main.ts, withDriverOptions, and their --input flags). */
export interface DriverFlags extends OutputFlags {
  /**
   * Not a flag: this process runs this one command (the CLI's `run` and `resume`), so a large workflow may switch
   * V8 to its memory-saving mode for good (memory-mode.ts). flow serve, which runs workflows for its clients, does not.
   */
  memorySaving?: boolean;
  input: string[];
  inputs?: string;
  state?: string;
  maxConcurrency?: string;
  cache?: boolean;
  durability?: string;
  /** Run action steps on `flow worker` processes, through the job queue. */
  remote?: boolean;
  /** The job queue of --remote (redis://… or postgres://…). */
  queue?: string;
  /** Not a flag: inputs as JSON values, from the API (flow serve). */
  inputValues?: Record<string, unknown>;
  /** Not a flag: called once the run is recorded and about to run, with its id (flow serve answers with it). */
  onStart?: (runId: string) => void;
}

/** --queue without --remote would say nothing: refused, so the user learns the run would have run here. */
export function checkRemoteFlags(flags: { remote?: boolean; queue?: string }): void {
  if (flags.queue !== undefined && !flags.remote)
    throw new UsageError('--queue is the job queue of --remote runs', 'add --remote, or leave out --queue');
}

/** Under --remote, the queue opened (and answering) before anything is recorded; BullMQ loads only then. */
export async function openRemoteFlags(
  flags: { remote?: boolean; queue?: string },
  state: string,
  workflow: Workflow,
  executors: ReadonlyMap<string, Executor>,
): Promise<RemoteDriver | undefined> {
  checkRemoteFlags(flags);
  if (!flags.remote) return undefined;
  const { checkRemoteWorkflow, openRemoteDriver } = await import('../remote/open-remote.js');
  checkRemoteWorkflow(workflow, executors);
  return openRemoteDriver(flags.queue, state);
}

export function parseDurability(value: string | undefined): Durability {
  if (value === undefined || value === 'normal' || value === 'full') return value ?? 'normal';
  throw new UsageError(`--durability must be normal or full, got '${value}'`);
}

export function parseConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--max-concurrency must be a whole number of at least 1, got '${value}'`);
  return n;
}

export function parseInputFlags(flags: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input '${flag}' is not name=value`, 'write --input name=value');
    out[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return out;
}
