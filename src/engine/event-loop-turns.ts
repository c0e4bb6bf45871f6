// Steps that run in-process (transform, input with its defaults) finish within promise callbacks: thousands of them
// in a row, a long for_each above all, would never let Node's event loop turn. Ctrl-C and every timer (the recorder's
// flush, the lease's heartbeat, a step's timeout) would wait for the end of the run, and so would the tasks V8 posts to
// collect its garbage in step. So before each step and item, a run gives the loop a turn when it has not seen one for
// a few milliseconds, and only then looks whether it was stopped.
const SLICE_MS = 5;

// A monotonic clock (a clock set back must not hold the loop again), and not performance.now: the global `performance`
// loads Node's perf_hooks (2-3 ms in a bare `node -e`).
const now = (): number => Number(process.hrtime.bigint() / 1_000_000n);

let lastTurn = now();
let watching = false;

function noteTurn(): void {
  lastTurn = now();
  watching = false;
}

/** Resolves at once while the event loop has turned lately, and after one turn of it otherwise. */
export function letEventLoopTurn(): Promise<void> | undefined {
  if (!watching) {
    watching = true;
    setImmediate(noteTurn);
  }
  if (now() - lastTurn < SLICE_MS) return undefined;
  return new Promise((resolve) => setImmediate(resolve));
}
