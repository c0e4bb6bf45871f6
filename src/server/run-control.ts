import { hostname } from 'node:os';
import type { CommandIO } from '../cli/io.js';
import { StepFailure } from '../engine/step-failure.js';
import type { RunHistory } from '../state/run-history.js';
import { problem } from './problem.js';
import { insideRoot } from './served-path.js';

export interface RunControlOptions {
  /** The directory the API's workflow paths are relative to; nothing outside it is run. */
  root: string;
  statePath: string;
  history: RunHistory;
  log: (message: string) => void;
}

interface OwnedRun {
  stop: AbortController;
  done: Promise<unknown>;
}

/** The last lines a run driven here wrote (its plain log): what a failure to start says. */
const KEPT_LINES = 40;

// Runs started, resumed and cancelled through the API. The server drives them itself, exactly as `flow run` and
// `flow resume` do (the same commands, in this process): they are recorded under this process's lease, so if the
// server dies they are interrupted runs that `flow resume` takes over.
export class RunControl {
  private readonly owned = new Map<string, OwnedRun>();

  constructor(private readonly options: RunControlOptions) {}

  /** POST /runs: validates, records and starts the run; answers with its id once it is on disk. */
  async start(body: unknown): Promise<{ id: string }> {
    const { workflow, inputs } = startRequest(body);
    const file = insideRoot(this.options.root, workflow);
    const { runCommand } = await import('../cli/commands/run.js');
    return this.drive((io, signal, onStart) =>
      runCommand(file, { input: [], inputValues: inputs, state: this.options.statePath, reporter: 'plain', onStart }, io, signal),
    );
  }

  /**
   * POST /runs/{id}/rerun: a new run of the same workflow file, with the run's inputs and any given in `inputs` (a
   * secret input, stored masked, must be given again). The run's succeeded steps before the first one that a change
   * to the file or to an input could change are taken over instead of run again (engine/rerun-plan.ts).
   */
  async rerun(runId: string, body: unknown): Promise<{ id: string }> {
    const given = inputsOf(object(body ?? {}));
    const run = this.options.history.getRun(runId);
    if (!run) throw problem(404, 'unknown-run', 'Unknown run', `no run ${runId} in the state file`);
    if (run.parentRunId)
      throw problem(409, 'resume', 'A child run', `run ${runId} is a child run of run ${run.parentRunId}`, `rerun run ${run.parentRunId}`);
    const file = insideRoot(this.options.root, run.workflowPath);
    const kept = Object.fromEntries(Object.entries(run.inputs).filter(([, v]) => v !== '***'));
    const results = this.options.history.steps(runId);
    const { runCommand } = await import('../cli/commands/run.js');
    return this.drive((io, signal, onStart) =>
      runCommand(
        file,
        {
          input: [],
          inputValues: { ...kept, ...given },
          state: this.options.statePath,
          reporter: 'plain',
          onStart,
          reuse: { shape: run.shape, inputs: run.inputs, results },
        },
        io,
        signal,
      ),
    );
  }

  /** POST /runs/{id}/resume: with `plan: true` only says what would run (as `flow resume --plan`); else resumes. */
  async resume(runId: string, body: unknown): Promise<{ id: string } | { plan: string }> {
    const { from, plan, inputs } = resumeRequest(body);
    const { resumeCommand } = await import('../cli/commands/resume.js');
    const flags = { input: [], inputValues: inputs, state: this.options.statePath, reporter: 'plain' as const, ...(from ? { from } : {}) };
    if (plan) {
      const io = capture(this.options.root);
      await resumeCommand(runId, { ...flags, plan: true }, io.io, new AbortController().signal);
      return { plan: io.out.join('\n') };
    }
    return this.drive((io, signal, onStart) => resumeCommand(runId, { ...flags, onStart }, io, signal));
  }

  /**
   * POST /runs/{id}/cancel: a run this server drives is stopped as Ctrl-C stops one (it is then interrupted, and
   * resumable); one a `flow` process on this machine drives gets SIGTERM, which does the same there.
   */
  async cancel(runId: string): Promise<void> {
    const mine = this.owned.get(runId);
    if (mine) {
      mine.stop.abort(new StepFailure('interrupted', 'cancelled through the API'));
      await mine.done;
      return;
    }
    const run = this.options.history.getRun(runId);
    if (!run) throw problem(404, 'unknown-run', 'Unknown run', `no run ${runId} in the state file`);
    if (run.status !== 'running' || !run.owner)
      throw problem(409, 'not-running', 'Not running', `run ${runId} is ${run.status}: there is nothing to cancel`);
    if (run.owner.host !== hostname())
      throw problem(409, 'run-owned', 'Driven elsewhere', `run ${runId} is driven on ${run.owner.host}; cancel it there`);
    process.kill(run.owner.pid, 'SIGTERM');
  }

  /** Stops every run this server drives (they become interrupted, resumable), and waits until each is recorded so. */
  async close(): Promise<void> {
    for (const run of this.owned.values()) run.stop.abort(new StepFailure('interrupted', 'the server stopped'));
    await Promise.allSettled([...this.owned.values()].map((r) => r.done));
  }

  private drive(go: (io: CommandIO, signal: AbortSignal, onStart: (runId: string) => void) => Promise<number>): Promise<{ id: string }> {
    const stop = new AbortController();
    const { io, out } = capture(this.options.root);
    return new Promise((resolveStart, rejectStart) => {
      let id: string | undefined;
      const done: Promise<unknown> = go(io, stop.signal, (runId) => {
        id = runId;
        this.owned.set(runId, { stop, done });
        resolveStart({ id: runId });
      }).then(
        (code) => {
          if (id !== undefined) this.owned.delete(id);
          else if (code === 0)
            rejectStart(
              problem(
                409,
                'run-succeeded',
                'Already succeeded',
                'the run succeeded already: there is nothing to resume',
                'give `from` to run a step and those after it again',
              ),
            );
          else rejectStart(problem(500, 'not-started', 'Not started', out.join('\n') || `the run did not start (exit ${code})`));
        },
        (err: unknown) => {
          if (id !== undefined) {
            this.owned.delete(id);
            this.options.log(`flow serve: run ${id}: ${(err as Error)?.message ?? String(err)}`);
          } else rejectStart(err);
        },
      );
    });
  }
}

/** A CommandIO whose output is kept (the last lines), never shown: a run driven here has no terminal. */
function capture(cwd: string): { io: CommandIO; out: string[] } {
  const out: string[] = [];
  const keep = (text: string) => {
    out.push(...text.replace(/\n$/, '').split('\n'));
    if (out.length > KEPT_LINES) out.splice(0, out.length - KEPT_LINES);
  };
  return { io: { cwd, isTTY: false, stdout: keep, stderr: keep, env: { ...process.env, CI: 'true', GITHUB_ACTIONS: '' } }, out };
}

function startRequest(body: unknown): { workflow: string; inputs: Record<string, unknown> } {
  const b = object(body);
  if (typeof b['workflow'] !== 'string' || b['workflow'] === '')
    throw badBody('`workflow` (a workflow file, relative to the served directory) is required');
  return { workflow: b['workflow'], inputs: inputsOf(b) };
}

function resumeRequest(body: unknown): { from: string | undefined; plan: boolean; inputs: Record<string, unknown> } {
  const b = object(body ?? {});
  if (b['from'] !== undefined && typeof b['from'] !== 'string') throw badBody('`from` is a step id');
  if (b['plan'] !== undefined && typeof b['plan'] !== 'boolean') throw badBody('`plan` is true or false');
  return { from: b['from'] as string | undefined, plan: b['plan'] === true, inputs: inputsOf(b) };
}

function inputsOf(b: Record<string, unknown>): Record<string, unknown> {
  if (b['inputs'] === undefined) return {};
  return object(b['inputs'], '`inputs` is an object of input names and values');
}

function object(value: unknown, what = 'the body is a JSON object'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badBody(what);
  return value as Record<string, unknown>;
}

function badBody(detail: string) {
  return problem(400, 'invalid-body', 'Invalid body', detail);
}
