// Small formatters every reporter shares.

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** Local wall-clock time to the millisecond (14:03:07.251): what a log line is stamped with. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** How an event names a step: `id`, or `id[N]` for one item of a for_each. */
export function stepLabel(stepId: string, item: number): string {
  return item >= 0 ? `${stepId}[${item}]` : stepId;
}

/** A line longer than this, still without its end, is shown in pieces: output with no newline must not pile up. */
const LONGEST_LINE = 64 * 1024;

/**
 * Cuts a stream's chunks into whole lines: what follows the last newline waits in `partial` (by `key`) for the next
 * chunk. A chunk without a newline is only appended, so a long line in many chunks costs no re-scanning.
 */
export function completeLines(partial: Map<string, string>, key: string, text: string): string[] {
  const before = partial.get(key) ?? '';
  if (!text.includes('\n')) {
    const rest = before + text;
    if (rest.length <= LONGEST_LINE) {
      partial.set(key, rest);
      return [];
    }
    partial.delete(key);
    return [rest];
  }
  const lines = (before + text).split('\n');
  partial.set(key, lines.pop() ?? '');
  return lines;
}
