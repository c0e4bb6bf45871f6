import type { ActionStep } from '../model/workflow.js';
import { leaseTtlMs } from '../state/lease.js';
import { renderText, resolveValue } from './expressions.js';
import type { RunContext, Scope } from './run-context.js';

/** A slot of a `concurrency` cap, held by one attempt. */
export interface HeldSlot {
  release(): void;
}

const FIRST_WAIT_MS = 25;
const LONGEST_WAIT_MS = 1_000;

// `concurrency: {key, limit}`: before an attempt starts, a slot of its key is taken in the run's store, where every
// run that keeps its runs there (on any machine) counts the same slots; while none is free the attempt waits, asking
// again less and less often. The slot is renewed as a lease, so a holder that died frees it when the lease runs out.
export async function takeSlot(
  ctx: RunContext,
  step: ActionStep,
  scope: Scope,
  holder: string,
  signal: AbortSignal,
): Promise<HeldSlot | undefined> {
  const cap = step.concurrency;
  const store = ctx.store;
  if (!cap || !store) return undefined;
  const key = renderText(await resolveValue(cap.key, scope));
  const ttl = leaseTtlMs();
  for (let wait = FIRST_WAIT_MS; !store.acquireSlot(key, holder, cap.limit, Date.now() + ttl, Date.now()); ) {
    await ctx.clock.sleep(wait, signal);
    wait = Math.min(LONGEST_WAIT_MS, wait * 2);
  }
  const renew = setInterval(
    () => {
      try {
        store.renewSlot(key, holder, Date.now() + ttl);
      } catch {
        // A busy store: the next renewal may get through before the lease runs out.
      }
    },
    Math.max(100, Math.floor(ttl / 3)),
  );
  renew.unref();
  return {
    release() {
      clearInterval(renew);
      try {
        store.releaseSlot(key, holder);
      } catch {
        // Not released: its lease runs out.
      }
    },
  };
}
