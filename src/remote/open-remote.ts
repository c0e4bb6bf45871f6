import type { RunContext } from '../engine/run-context.js';
import { groupEnvironments } from '../engine/run-context.js';
import { type RemoteSteps, runsRemotely } from '../engine/remote-steps.js';
import type { Executor } from '../executors/executor.js';
import { UsageError } from '../model/errors.js';
import { actionSteps, runSections } from '../model/step-lists.js';
import type { Workflow } from '../model/workflow.js';
import type { RunStore } from '../state/run-store.js';
import { RemoteDispatcher } from './dispatcher.js';
import { openJobQueue, queueLocation } from './job-queue.js';
import { namesRead } from './scope-snapshot.js';

/** What `flow run --remote` (and resume) adds to a driver: the queue, opened and answering before the run starts. */
export interface RemoteDriver {
  dispatcher(store: RunStore, runId: string, token: string): (ctx: RunContext) => RemoteSteps;
  close(): Promise<void>;
}

// Loaded only under --remote, with BullMQ behind it.
export async function openRemoteDriver(queueFlag: string | undefined, state: string): Promise<RemoteDriver> {
  const url = queueLocation(queueFlag, state);
  if (url === undefined)
    throw new UsageError(
      '--remote needs a job queue',
      'give --queue redis://HOST:PORT (or FLOW_QUEUE), or keep runs in PostgreSQL (--state postgres://…), whose queue it then uses',
    );
  const queue = await openJobQueue(url);
  const dispatchers: RemoteDispatcher[] = [];
  return {
    dispatcher: (store, runId, token) => (ctx) => {
      const d = new RemoteDispatcher({
        store,
        queue,
        runId,
        token,
        mask: (v) => ctx.masker.value(v),
        groupEnv: (stepId) => ctx.groupEnv.get(stepId),
      });
      dispatchers.push(d);
      return d;
    },
    async close() {
      for (const d of dispatchers) d.stop();
      await queue.close();
    },
  };
}

/**
 * A secret input is stored masked, so a worker would read `***` for it: a step that would run on a worker and reads one
 * is refused before anything runs, naming what to do instead.
 */
export function checkRemoteWorkflow(workflow: Workflow, executors: ReadonlyMap<string, Executor>): void {
  const secret = new Set(workflow.inputs.filter((i) => i.secret).map((i) => i.name));
  if (secret.size === 0) return;
  const groupEnv = groupEnvironments(runSections(workflow));
  for (const step of actionSteps([...runSections(workflow), ...workflow.fallbacks])) {
    const executor = executors.get(step.type);
    if (!executor || !runsRemotely(executor)) continue;
    const read = namesRead([step.config, step.env, groupEnv.get(step.id)], 'inputs');
    const name = read === 'all' ? [...secret][0] : [...read].find((n) => secret.has(n));
    if (name !== undefined)
      throw new UsageError(
        `step '${step.id}' reads the secret input '${name}', which a worker cannot have: secret inputs are stored masked`,
        `give the value to the workers' environment and read it as secrets.NAME (list NAME under secrets:), or run without --remote`,
      );
  }
}
