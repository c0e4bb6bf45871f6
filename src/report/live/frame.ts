import { stripVTControlCharacters } from 'node:util';
import type { StepStatus } from '../../model/run.js';
import { duration, stepLabel } from '../format.js';
import type { Palette } from '../palette.js';
import { type StepIndex, stepInfo } from '../step-index.js';
import { lastLines, type StepTally } from '../run-tally.js';
import { isFailure } from '../summary.js';

// What the live view prints, as pure functions of the tally: the renderer (live-reporter.ts) only decides when.

export interface FrameStyle {
  index: StepIndex;
  palette: Palette;
  now: number;
}

/** How many lines of a failed step's output are shown under it. */
export const FAILED_TAIL = 10;
const MARK: Record<StepStatus, string> = {
  succeeded: '✔',
  failed: '✖',
  skipped: '↷',
  cancelled: '✖',
  interrupted: '✖',
  running: '…',
};

export function depthOf(index: StepIndex, stepId: string): number {
  return stepInfo(index, stepId)?.groups.length ?? 0;
}

const indent = (depth: number) => '  '.repeat(depth);

/** A group's first line, printed when it starts, so the steps under it read as its own. */
export function groupStartLine(step: StepTally, style: FrameStyle): string {
  return `${indent(depthOf(style.index, step.stepId))}${style.palette.accent('▸')} ${step.stepId} ${style.palette.dim(`(${step.kind})`)}`;
}

/** The lines that stay when a step finishes: its mark, duration and why; a failure's last lines of output under it. */
export function finishedLines(step: StepTally, style: FrameStyle): string[] {
  const { palette } = style;
  const pad = indent(depthOf(style.index, step.stepId));
  const r = step.result;
  const failed = isFailure(step.status);
  const tail = failed && step.kind !== 'parallel' && step.kind !== 'sequence' ? lastLines(step.combined, FAILED_TAIL) : [];
  const mark = step.cached
    ? palette.accent('⟳')
    : failed
      ? palette.fail(MARK[step.status])
      : step.status === 'succeeded'
        ? palette.ok(MARK.succeeded)
        : palette.dim(MARK[step.status]);
  const took = step.status === 'skipped' ? '' : ` ${palette.dim(duration(step.durationMs ?? 0))}`;
  const items = step.items ? ` ${itemCounts(step, palette)}` : '';
  const what = step.cached ? ' cached' : step.status === 'succeeded' ? '' : ` ${step.status}`;
  const why = step.cached
    ? ''
    : step.status === 'skipped' || r?.reason
      ? palette.dim(` (${r?.reason ?? ''})`)
      : r?.error && step.kind !== 'parallel' && step.kind !== 'sequence'
        ? errorText(r.error, tail.length > 0 || step.items !== undefined)
        : '';
  const attempts = step.attempts > 1 ? palette.dim(` after ${step.attempts} attempts`) : '';
  const lines = [`${pad}${mark} ${stepLabel(step.stepId, step.item)}${items}${failed ? palette.fail(what) : what}${took}${attempts}${why}`];
  for (const line of tail) lines.push(`${pad}  ${palette.dim('│')} ${stepText(line)}`);
  return lines;
}

export function retryLine(step: StepTally, style: FrameStyle): string {
  const retry = step.retries.at(-1)!;
  // The failed attempt's last line of output says why, where its message would repeat the script.
  const [last] = lastLines(step.combined, 1);
  const why = last === undefined ? errorText(retry.error, false) : ` (${retry.error.class}) ${stepText(last)}`;
  return `${indent(depthOf(style.index, step.stepId))}${style.palette.warn('↻')} ${stepLabel(step.stepId, step.item)} attempt ${retry.attempt} failed${why}; retrying in ${duration(retry.delayMs)}`;
}

/**
 * A failure as its line shows it: the class alone when the step's output (shown with it) tells the rest, as a
 * shell's message repeats its script and last line; the message too when there is no output to tell it.
 */
function errorText(error: { class: string; message: string }, hasOutput: boolean): string {
  return hasOutput ? ` (${error.class})` : ` (${error.class}: ${error.message})`;
}

/** The redrawn part: one line per running step (a for_each once, with its counts), spinners supplied by the caller. */
/** The characters of a streamed answer's unfinished line shown under its step. */
const SAYING_WIDTH = 48;

export function runningLines(
  running: readonly StepTally[],
  style: FrameStyle,
  spinner: (key: string) => string,
  rows: number,
  /** What a step is saying right now (a streamed answer's unfinished line), shown under it. */
  saying: (key: string) => string | undefined = () => undefined,
): string[] {
  const shown = running.filter((s) => s.item < 0 && s.kind !== 'parallel' && s.kind !== 'sequence');
  const room = Math.max(1, rows);
  const lines = shown.slice(0, shown.length > room ? room - 1 : room).flatMap((step) => {
    const pad = indent(depthOf(style.index, step.stepId));
    const items = step.items ? ` ${itemCounts(step, style.palette)}` : '';
    const attempt = step.attempts > 1 ? style.palette.dim(` (attempt ${step.attempts})`) : '';
    const line = `${pad}${style.palette.accent(spinner(step.key))} ${step.stepId}${items} ${style.palette.dim(duration(style.now - step.startedAt))}${attempt}`;
    const said = saying(step.key);
    // The end of what it says: the newest words, the line cut from the left.
    return said ? [line, `${pad}  ${style.palette.dim('│')} ${[...said].slice(-SAYING_WIDTH).join('')}`] : [line];
  });
  if (shown.length > room) lines.push(style.palette.dim(`… and ${shown.length - (room - 1)} more running`));
  return lines;
}

/** `37/1000 ✔36 ✖1`: how far a for_each is and how its finished items ended. */
export function itemCounts(step: StepTally, palette: Palette): string {
  const f = step.items?.finished ?? {};
  const done = Object.values(f).reduce((a, b) => a + (b ?? 0), 0);
  const failed = (f.failed ?? 0) + (f.cancelled ?? 0) + (f.interrupted ?? 0);
  const parts = [`${done}/${step.items?.total ?? '?'}`];
  if (f.succeeded) parts.push(palette.ok(`✔${f.succeeded}`));
  if (failed) parts.push(palette.fail(`✖${failed}`));
  if (f.skipped) parts.push(palette.dim(`↷${f.skipped}`));
  return parts.join(' ');
}

/** Cuts a line to the terminal's width, so no line wraps and the region's height is its line count. */
export function fitWidth(line: string, width: number): string {
  const plain = stripVTControlCharacters(line);
  if ([...plain].length <= width) return line;
  return `${[...plain].slice(0, Math.max(1, width - 1)).join('')}…`;
}

/**
 * A line of a step's output as the live view shows it: its colours kept and reset at its end (a test runner killed
 * mid-colour must not colour flow's own lines), cursor moves and other controls dropped (they would move the
 * redrawn lines), and of a line a progress bar rewrote with CR, the last state.
 */
export function stepText(line: string): string {
  const last = line.slice(line.lastIndexOf('\r') + 1);
  // Keep SGR (colour) sequences, drop every other escape sequence and control character.
  const kept = last
    .replace(/\x1b\[[0-9;?]*[A-Za-ln-z@`]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[^[\]]/g, '')
    .replace(/[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]/g, '');
  return kept.includes('\x1b[') ? `${kept}\x1b[0m` : kept;
}
