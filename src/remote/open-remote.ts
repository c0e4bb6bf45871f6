import type { RunContext } from '../engine/run-context.js';
import type { RemoteSteps } from '../engine/remote-steps.js';
import { UsageError } from '../model/errors.js';
import type { RunStore } from '../state/run-store.js';
import { RemoteDispatcher } from './dispatcher.js';
import { openJobQueue, queueLocation } from './job-queue.js';

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
