import type { StepStatus } from '../model/run.js';
import type { Palette } from './palette.js';
import { duration } from './format.js';
import { aiLine } from './ai-spend.js';
import type { RunTally } from './run-tally.js';

const ORDER: (StepStatus | 'cached' | 'restored')[] = [
  'succeeded',
  'failed',
  'cancelled',
  'interrupted',
  'skipped',
  'cached',
  'restored',
  'running',
];
const SLOWEST = 3;

// The lines that end a run in the terminal and in plain logs: how it ended, its counts, its slowest steps, and on
// failure how to continue it. Pure, over the tally, so the live and plain views say the same.
export function summaryLines(tally: RunTally, resumeCommand: string, palette: Palette): string[] {
  const end = tally.end;
  if (!end || tally.runId === undefined) return [];
  const ok = end.status === 'succeeded';
  const paint = ok ? palette.ok : palette.fail;
  const lines = [
    `${paint(`flow: run ${tally.runId} ${end.status}`)} in ${duration(end.durationMs)}${end.error ? `: ${end.error.message}` : ''}`,
  ];
  const counts = tally.counts();
  const parts = ORDER.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`);
  if (parts.length > 0) lines.push(`  steps: ${parts.join(', ')}`);
  const timed = tally
    .countedSteps()
    .filter((s) => !s.restored && s.durationMs !== undefined)
    .sort((a, b) => b.durationMs! - a.durationMs!);
  if (timed.length > 1)
    lines.push(
      `  slowest: ${timed
        .slice(0, SLOWEST)
        .map((s) => `${s.key} ${duration(s.durationMs!)}`)
        .join(', ')}`,
    );
  if (tally.ai.calls > 0) lines.push(`  ai: ${aiLine(tally.ai)}`);
  if (!ok) lines.push(`  to continue it: ${palette.bold(resumeCommand)}    (details: flow show ${tally.runId})`);
  return lines;
}

export function isFailure(status: StepStatus): boolean {
  return status === 'failed' || status === 'cancelled' || status === 'interrupted';
}
