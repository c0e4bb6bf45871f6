import type { LogChunk } from '../state/run-history.js';

type Chunk = Pick<LogChunk, 'stepId' | 'item' | 'attempt' | 'stream' | 'text'>;

// `flow logs`: stored output as the live output showed it, `[step] | line` and `[step] stderr | line`.
// When a step (or item) has output from several attempts, each attempt's lines follow a `[step] attempt N` line.
export function formatLogs(chunks: readonly Chunk[]): string {
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
    lines.push(...chunkLines(c));
  }
  return lines.join('\n');
}

/**
 * `flow logs --follow`: the same lines, a batch at a time as the output comes. Which attempts a step will have is not
 * known yet, so an attempt's lines are headed when it is not the step's first.
 */
export class FollowedLogs {
  private readonly attempts = new Map<string, number>();

  lines(chunks: readonly Chunk[]): string[] {
    const lines: string[] = [];
    for (const c of chunks) {
      const name = label(c);
      const before = this.attempts.get(name);
      if (before !== c.attempt && (before !== undefined || c.attempt > 1)) lines.push(`[${name}] attempt ${c.attempt}`);
      this.attempts.set(name, c.attempt);
      lines.push(...chunkLines(c));
    }
    return lines;
  }
}

function chunkLines(c: Chunk): string[] {
  const prefix = `[${label(c)}]${c.stream === 'stderr' ? ' stderr' : ''} | `;
  const text = c.text.endsWith('\n') ? c.text.slice(0, -1) : c.text;
  return text.split('\n').map((line) => prefix + line);
}

function label(c: Chunk): string {
  return c.item >= 0 ? `${c.stepId}[${c.item}]` : c.stepId;
}
