import { setMaxListeners } from 'node:events';

// setTimeout fires at once for a delay past 2^31-1 ms (24.8 days): such a limit is no limit in practice.
const MAX_DELAY = 2 ** 31 - 1;

export function setLimit(fn: () => void, ms: number): NodeJS.Timeout | undefined {
  return ms > MAX_DELAY ? undefined : setTimeout(fn, ms);
}

/** Many steps wait on one run or group signal at once; that is by design, not a leaking listener. */
export function manyListeners(signal: AbortSignal): AbortSignal {
  setMaxListeners(0, signal);
  return signal;
}
