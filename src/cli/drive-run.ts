import { relative } from 'node:path';
import { type CheckWorkflow, childRunner } from '../engine/child-runs.js';
import { type ResumeOf, runWorkflow } from '../engine/run-workflow.js';
import { StepFailure } from '../engine/step-failure.js';
import type { Executor } from '../executors/executor.js';
import { EXIT, LeaseLostError } from '../model/errors.js';
import type { Workflow } from '../model/workflow.js';
import type { OutputFlags } from '../report/output-mode.js';
import { currentOwner, heartbeatEveryMs } from '../state/lease.js';
import { isPostgresUrl, shownLocation } from '../state/state-location.js';
import { recordEvents } from '../state/record-events.js';
import type { RunStore, StoredStepResult } from '../state/run-store.js';
import type { RunOwner } from '../model/run.js';
import type { EventListener } from '../model/events.js';
import { secretValues } from '../engine/masking.js';
import type { CommandIO } from './io.js';
import { favourMemoryForItems } from './memory-mode.js';
import type { RemoteDriver } from '../remote/open-remote.js';
import { openReporting, type Reporting } from './reporting.js';

export interface DriveRun {
  store: RunStore;
  statePath: string;
  workflow: Workflow;
  text: string;
  inputs: Record<string, unknown>;
  executors: ReadonlyMap<string, Executor>;
  runId: string;
  recorded?: readonly StoredStepResult[];
  resume?: ResumeOf;
  maxConcurrency: number | undefined;
  noCache: boolean;
  output: OutputFlags;
  onStart?: ((runId: string) => void) | undefined;
  /** Under --remote: the queue its action attempts go through. */
  remote?: RemoteDriver | undefined;
  /** How the file of a `workflow` step is checked before its child run. */
  checkChild: CheckWorkflow;
  /** The CLI's own run: V8's settings may favour memory for a large run (src/cli/memory-mode.ts). */
  memorySaving?: boolean | undefined;
}

// Runs (or continues) a run as this process's own: recorded under its lease, kept alive by a heartbeat, fenced.
export async function driveRun(d: DriveRun, io: CommandIO, signal: AbortSignal): Promise<number> {
  const reporting = await openReporting(
    d.output,
    {
      workflow: d.workflow,
      workflowFile: relative(io.cwd, d.workflow.file) || d.workflow.file,
      resumeCommand: resumeCommand(d.runId, d.statePath, io.cwd),
      secrets: secretValues(d.workflow, d.inputs, process.env),
    },
    io,
  );
  const owner = currentOwner();
  const lost = new AbortController();
  const heartbeat = setInterval(() => {
    let held: boolean;
    try {
      held = d.store.heartbeat(d.runId, owner.token, Date.now());
    } catch {
      // A busy or full file: the next write of the run meets the same fault and reports it.
      return;
    }
    if (!held) lost.abort(new StepFailure('interrupted', `this process no longer owns run ${d.runId}`));
  }, heartbeatEveryMs());
  heartbeat.unref();
  let code: number;
  let reportsWritten: boolean;
  try {
    code = await drive(d, io, signal, { owner, lost, reporting });
  } finally {
    clearInterval(heartbeat);
    reportsWritten = await reporting.close();
  }
  // A run that succeeded but whose asked-for report is missing must not look green to a CI.
  return code === EXIT.ok && !reportsWritten ? EXIT.invalid : code;
}

async function drive(
  d: DriveRun,
  io: CommandIO,
  signal: AbortSignal,
  { owner, lost, reporting }: { owner: RunOwner; lost: AbortController; reporting: Reporting },
): Promise<number> {
  // Told once the run's start is on disk (the store listens first), so whoever is told can read it at once.
  const started: EventListener = (event) => {
    if (event.type === 'run-started' && event.run.id === d.runId) d.onStart?.(d.runId);
  };
  // A commit made after its event that fails (a lost lease, a full disk) stops the run, as one the engine waited for.
  const lateFailure = new AbortController();
  const listeners = [
    recordEvents(d.store, { token: owner.token, onLateFailure: (err) => lateFailure.abort(err) }),
    ...(d.onStart ? [started] : []),
    ...(d.memorySaving ? [favourMemoryForItems] : []),
    ...reporting.listeners,
  ];
  const env = withEnv(process.env, reporting.childEnv);
  const base = { store: d.store, listeners, cwd: io.cwd, maxConcurrency: d.maxConcurrency, owner, noCache: d.noCache, env };
  const outcome = await runWorkflow({
    ...base,
    workflow: d.workflow,
    definition: d.text,
    inputs: d.inputs,
    executors: d.executors,
    runId: d.runId,
    signal: AbortSignal.any([signal, lost.signal, lateFailure.signal]),
    runChild: childRunner(base, () => d.runId, { check: d.checkChild }),
    ...(d.recorded ? { recorded: d.recorded } : {}),
    ...(d.resume ? { resume: d.resume } : {}),
    ...(d.remote ? { remote: d.remote.dispatcher(d.store, d.runId, owner.token) } : {}),
  });
  if (lost.signal.aborted) throw new LeaseLostError(`this process no longer owns run ${d.runId}; it stopped`);
  // With --json the outputs are in the last event; otherwise stdout holds only them, so `> out.json` works.
  if (!reporting.choice.json && outcome.outputs && Object.keys(outcome.outputs).length > 0)
    io.stdout(JSON.stringify(outcome.outputs, null, 2));
  if (outcome.status === 'succeeded') return EXIT.ok;
  if (outcome.status === 'interrupted') return signalExit(signal);
  return EXIT.failed;
}

function withEnv(env: NodeJS.ProcessEnv, changes: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env, ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete out[name];
  return out;
}

export function signalExit(signal: AbortSignal): number {
  const message = signal.reason instanceof StepFailure ? signal.reason.message : '';
  return message.includes('SIGTERM') ? EXIT.terminated : message.includes('SIGHUP') ? EXIT.hangup : EXIT.interrupted;
}

/** The exact command that continues a run, naming the state file when it is not the default one. */
export function resumeCommand(runId: string, statePath: string, cwd: string): string {
  if (isPostgresUrl(statePath)) return `flow resume ${runId} --state '${shownLocation(statePath)}'`;
  const rel = relative(cwd, statePath);
  return `flow resume ${runId}${rel === '.flow/state.db' && !process.env['FLOW_STATE'] ? '' : ` --state ${rel.includes(' ') ? JSON.stringify(rel) : rel}`}`;
}
