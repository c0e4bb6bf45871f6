import type { LogChunk } from '../state/run-history.js';

// `flow logs`: stored output as the live output showed it, `[step] | line` and `[step] stderr | line`.
// When a step (or item) has output from several attempts, each attempt's lines follow a `[step] attempt N` line.
export function formatLogs(chunks: readonly LogChunk[]): string {
  const attempts = new Map<string, Set<number>>();
  for (const c of chunks) {
    const key = label(c);
    attempts.set(key, (attempts.get(key) ?? new Set()).add(c.attempt));
  }
  const lines: string[] = [];
  let current = '';
  for (const c of chunks) {
    const name = label(c);
    if (`${name}@${c.attempt}` !== current && attempts.get(name)!.size > 1) lines.push(`[${name}] attempt ${c.attempt}`);
    current = `${name}@${c.attempt}`;
    const prefix = `[${name}]${c.stream === 'stderr' ? ' stderr' : ''} | `;
    const text = c.text.endsWith('\n') ? c.text.slice(0, -1) : c.text;
    for (const line of text.split('\n')) lines.push(prefix + line);
  }
  return lines.join('\n');
}

function label(c: LogChunk): string {
  return c.item >= 0 ? `${c.stepId}[${c.item}]` : c.stepId;
}
