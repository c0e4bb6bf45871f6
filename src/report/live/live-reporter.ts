import { stripVTControlCharacters } from 'node:util';
import { createLogUpdate } from 'log-update';
import ora, { type Ora } from 'ora';
import type { EventListener } from '../../model/events.js';
import { completeLines, stepLabel } from '../format.js';
import type { ReportContext, Reporter } from '../reporter.js';
import { RunTally } from '../run-tally.js';
import { stepInfo } from '../step-index.js';
import { isFailure, summaryLines } from '../summary.js';
import { type FrameStyle, depthOf, finishedLines, fitWidth, groupStartLine, retryLine, runningLines, stepText } from './frame.js';

const REDRAW_MS = 80;
/** The running lines' widest: a terminal narrowed to more than this never rewraps them. */
const REGION_WIDTH = 60;
const RESTORED_LISTED = 20;

// The terminal view: what finished stays in the scrollback, what runs is redrawn in place below it (log-update),
// one ora spinner per running step. Loaded only when stderr is a terminal and nothing asked for plain output.
export function liveReporter(ctx: ReportContext, stream: NodeJS.WriteStream): Reporter {
  const { palette } = ctx;
  const tally = new RunTally(ctx.now);
  const region = createLogUpdate(stream, { showCursor: false });
  const spinners = new Map<string, Ora>();
  const pending: string[] = [];
  const partial = new Map<string, string>();
  // With --verbose: each step's streamed answer, the line it is on.
  const saying = new Map<string, string>();
  let restored: string[] = [];

  function width(): number {
    return Math.max(20, (stream.columns || 80) - 1);
  }
  const style = (): FrameStyle => ({ index: ctx.index, palette, now: ctx.now() });
  const spinner = (key: string) => {
    let s = spinners.get(key);
    if (!s) {
      s = ora({ stream, isEnabled: false, color: false, text: '', spinner: 'dots' });
      spinners.set(key, s);
    }
    return s.frame().trimEnd();
  };
  const flushRestored = () => {
    if (restored.length <= RESTORED_LISTED) for (const id of restored) pending.push(`${palette.dim('↺')} ${id} ${palette.dim('restored')}`);
    else pending.push(`${palette.dim('↺')} ${restored.length} steps restored from the record, ${restored[0]} to ${restored.at(-1)}`);
    restored = [];
  };
  // Shown without colours or control characters: it is cut from the left, where a colour's start may be gone.
  const sayingNow = (key: string) => {
    const said = saying.get(key);
    return said === undefined ? undefined : stepText(stripVTControlCharacters(said));
  };
  const draw = () => {
    const w = width();
    if (pending.length > 0) {
      // Permanent lines (a failure's output) may wrap and outgrow the screen: they are written as they are,
      // not through log-update, which clips to the terminal's height. Only the redrawn region must fit.
      region.clear();
      stream.write(`${pending.join('\n')}\n`);
      pending.length = 0;
    }
    const rows = Math.max(3, (stream.rows || 24) - 2);
    const frame = runningLines(tally.runningSteps(), style(), spinner, rows, sayingNow).map((l) => fitWidth(l, Math.min(w, REGION_WIDTH)));
    if (frame.length > 0) region(frame.join('\n'));
    else region.clear();
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  // Every running line is cut to the width, and to REGION_WIDTH, so the region's height is its line count; on a
  // resize log-update erases that many lines and draws afresh. A terminal that rewraps lines when it narrows
  // (tmux, VTE, kitty) would otherwise turn a long line into two rows, one of which stayed behind; erasing more
  // than the line count instead could erase finished steps' lines on a terminal that does not rewrap.
  const onResize = () => draw();
  stream.on('resize', onResize);

  const listener: EventListener = (event) => {
    const step = tally.apply(event);
    if (event.type === 'step-restored') {
      if (event.runId === tally.runId) restored.push(stepLabel(event.stepId, event.item));
      return;
    }
    if (restored.length > 0) flushRestored();
    switch (event.type) {
      case 'run-started':
        if (event.run.id === tally.runId)
          pending.push(
            `flow: run ${event.run.id} ${event.resumed ? 'resumed' : 'started'}: ${event.run.workflowName} ${palette.dim(`(${ctx.workflowFile})`)}`,
          );
        return;
      case 'log':
        pending.push(`flow: ${event.level === 'warning' ? palette.warn('warning: ') : ''}${event.message}`);
        return;
      case 'run-finished':
        if (event.runId !== tally.runId) return;
        // The first line fits the terminal (the full error is in flow show); the command that continues the run is
        // never cut, so it can be copied as it is.
        pending.push(
          ...summaryLines(tally, ctx.resumeCommand, palette).map((l, i) =>
            i === 0 ? fitWidth(stepText(`${mark(event.status)} ${l}`), width()) : l,
          ),
        );
        draw();
        return;
    }
    if (!step) return;
    if (event.type === 'step-started') announceSection(step.stepId);
    if (event.type === 'step-started' && (step.kind === 'parallel' || step.kind === 'sequence'))
      pending.push(groupStartLine(step, style()));
    else if (event.type === 'step-retrying') pending.push(retryLine(step, style()));
    else if (event.type === 'step-tokens' && ctx.verbose) saying.set(step.key, (saying.get(step.key) ?? '') + event.text);
    else if (event.type === 'step-output' && ctx.verbose) {
      if (event.stream === 'stdout') saying.delete(step.key);
      const key = `${step.key}#${event.stream}`;
      const lines = completeLines(partial, key, event.text);
      const prefix = `${'  '.repeat(depthOf(ctx.index, step.stepId))}${palette.dim(`${step.key} |`)}`;
      for (const line of lines) pending.push(`${prefix} ${stepText(line)}`);
    } else if (event.type === 'step-finished') {
      spinners.delete(step.key);
      saying.delete(step.key);
      if (ctx.verbose)
        for (const stream of ['stdout', 'stderr'] as const) {
          const rest = partial.get(`${step.key}#${stream}`);
          if (rest) pending.push(`${palette.dim(`${step.key} |`)} ${stepText(rest)}`);
          partial.delete(`${step.key}#${stream}`);
        }
      // A for_each item shows in its step's counts; only a failed one gets lines of its own.
      if (step.item < 0 || isFailure(step.status)) pending.push(...finishedLines(step, style()));
    }
  };

  // Handlers (on_success, on_failure, finally) follow the main steps under a line that says which they are.
  const announced = new Set<string>();
  function announceSection(stepId: string): void {
    const section = stepInfo(ctx.index, stepId)?.section;
    if (!section || section === 'steps' || section === 'fallbacks' || announced.has(section)) return;
    announced.add(section);
    pending.push(`${palette.accent('▸')} ${section} ${palette.dim('(handlers)')}`);
  }

  function mark(status: string): string {
    return status === 'succeeded' ? palette.ok('✔') : palette.fail('✖');
  }

  return {
    listener,
    close: () => {
      clearInterval(timer);
      stream.off('resize', onResize);
      if (restored.length > 0) flushRestored();
      region.clear();
      if (pending.length > 0) stream.write(`${pending.join('\n')}\n`);
      pending.length = 0;
      // Shows the cursor again, also after Ctrl-C (a second one exits at once: cli-cursor restores it on exit).
      region.done();
    },
  };
}
