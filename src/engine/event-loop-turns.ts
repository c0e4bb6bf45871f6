// Steps that run in-process (transform, input with its defaults) finish within promise callbacks: thousands of them
// in a row, a long for_each above all, would never let Node's event loop turn. Ctrl-C and every timer (the recorder's
// flush, a concurrency lease's renewal, a step's timeout) would wait for the end of the run, and so would the tasks V8
// posts to collect its garbage in step. So a run gives the loop a turn once it has held it for a few milliseconds.
const SLICE_MS = 5;
// Date.now, not performance.now: the global `performance` loads Node's perf_hooks, 2-3 ms of every run's start-up.

let lastTurn = Date.now();
let watching = false;

function noteTurn(): void {
  lastTurn = Date.now();
  watching = false;
}

/** Resolves at once while the event loop has turned lately, and after one turn of it otherwise. */
export function letEventLoopTurn(): Promise<void> | undefined {
  if (!watching) {
    watching = true;
    setImmediate(noteTurn);
  }
  if (Date.now() - lastTurn < SLICE_MS) return undefined;
  return new Promise((resolve) => setImmediate(resolve));
}
