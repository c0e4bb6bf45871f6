// A run writes the time as ISO text several times per step (its start, its end, each event line), and Date's
// toISOString is the slow part of that: steps that run in-process take well under a millisecond, so most of those
// calls fall in the millisecond of the one before, whose text is kept.
let lastMs = Number.NaN;
let lastText = '';

/** The ISO 8601 text of a time in milliseconds since the epoch, as `new Date(ms).toISOString()` gives it. */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastText;
}
