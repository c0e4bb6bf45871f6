import { dispatch, type EventListener } from '../model/events.js';
import type { StepError } from '../model/run.js';
import { clockTime, completeLines, duration, stepLabel } from './format.js';
import type { LineSink, ReportContext, Reporter } from './reporter.js';
import { RunTally } from './run-tally.js';
import { isFailure, summaryLines } from './summary.js';

export { duration } from './format.js';

/** What the plain reporter needs of the context: no step places, no drawing. */
export type PlainContext = Pick<ReportContext, 'resumeCommand' | 'palette' | 'now' | 'workflowFile'>;

// One line per event, stamped with the time, no cursor movement: readable in a CI log, a file or `less -R`.
// Colour (when chosen) only marks statuses. The run ends with the summary the live view shows.
export function plainReporter(ctx: PlainContext, write: LineSink): Reporter {
  const { palette } = ctx;
  const tally = new RunTally(ctx.now);
  const stamped = (line: string) => write(`${palette.dim(clockTime(ctx.now()))} ${line}`);
  const partial = new Map<string, string>();
  const flush = (key: string, prefix: string) => {
    const rest = partial.get(key);
    if (rest) stamped(`${prefix} | ${rest}`);
    partial.delete(key);
  };
  const name = (stepId: string, item: number) => `[${stepLabel(stepId, item)}]`;
  // A resume of a long run restores thousands of steps: a few are listed, a run of more is one line.
  let restored: { name: string; status: string }[] = [];
  const flushRestored = () => {
    if (restored.length <= RESTORED_LISTED) for (const r of restored) stamped(`${r.name} ${r.status} earlier; output restored`);
    else
      stamped(
        `flow: ${restored.length} steps restored from the record (they succeeded earlier), ${restored[0]!.name} to ${restored.at(-1)!.name}`,
      );
    restored = [];
  };
  const handlers = dispatch({
    // The root run's file as the user named it; a child run's as recorded.
    'run-started': (e) =>
      stamped(
        `flow: run ${e.run.id} ${e.resumed ? 'resumed' : 'started'}: ${e.run.workflowName} (${tally.runId === e.run.id ? ctx.workflowFile : e.run.workflowPath})`,
      ),
    'run-finished': (e) => {
      if (e.runId === tally.runId)
        for (const [i, line] of summaryLines(tally, ctx.resumeCommand, palette).entries()) (i === 0 ? stamped : write)(line);
      else stamped(`flow: run ${e.runId} ${e.status} in ${duration(e.durationMs)}${e.error ? `: ${e.error.message}` : ''}`);
    },
    'step-started': (e) => stamped(`${name(e.stepId, e.item)} started${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`),
    'step-items': (e) => stamped(`${name(e.stepId, e.item)} ${e.count} item${e.count === 1 ? '' : 's'}`),
    // Plain lines are whole lines: the answer's come in step-output.
    'step-tokens': () => {},
    'step-output': (e) => {
      const key = `${e.stepId}#${e.item}#${e.stream}`;
      const prefix = `${name(e.stepId, e.item)}${e.stream === 'stderr' ? ' stderr' : ''}`;
      for (const line of completeLines(partial, key, e.text)) stamped(`${prefix} | ${line}`);
    },
    'step-retrying': (e) =>
      stamped(
        `${name(e.stepId, e.item)} ${palette.warn(`attempt ${e.attempt} failed`)} (${errorText(e.error)}); retrying in ${duration(e.delayMs)}`,
      ),
    'step-finished': (e) => {
      for (const stream of ['stdout', 'stderr'])
        flush(`${e.stepId}#${e.item}#${stream}`, `${name(e.stepId, e.item)}${stream === 'stderr' ? ' stderr' : ''}`);
      const r = e.result;
      const why = r.status === 'skipped' || r.reason ? ` (${r.reason})` : r.error ? `: ${errorText(r.error)}` : '';
      const status = isFailure(r.status) ? palette.fail(r.status) : r.status === 'succeeded' ? palette.ok(r.status) : r.status;
      stamped(`${name(e.stepId, e.item)} ${status}${r.status === 'skipped' ? '' : ` in ${duration(e.durationMs)}`}${why}`);
    },
    'step-restored': () => {},
    'cache-hit': (e) => stamped(`${name(e.stepId, e.item)} cache hit`),
    log: (e) => stamped(`flow: ${e.level === 'warning' ? palette.warn('warning: ') : ''}${e.message}`),
  });
  const listener: EventListener = (event) => {
    tally.apply(event);
    if (event.type === 'step-restored') {
      restored.push({ name: name(event.stepId, event.item), status: event.result.status });
      return;
    }
    if (restored.length > 0) flushRestored();
    handlers(event);
  };
  return { listener, close: () => {} };
}

const RESTORED_LISTED = 20;

/** One line per event: a message of several lines (a custom step's error) is joined. */
function errorText(error: StepError): string {
  return `${error.class}: ${error.message.replace(/\r?\n/g, ' ⏎ ')}`;
}
