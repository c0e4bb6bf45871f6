import { dispatch, type EventListener } from '../model/events.js';
import type { StepError } from '../model/run.js';

// One line per event, no colour, no cursor movement: readable in a terminal, a CI log or a file.
export function plainReporter(write: (line: string) => void): EventListener {
  const partial = new Map<string, string>();
  const label = (stepId: string, item: number) => (item >= 0 ? `${stepId}[${item}]` : stepId);
  const flush = (key: string, prefix: string) => {
    const rest = partial.get(key);
    if (rest) write(`${prefix} | ${rest}`);
    partial.delete(key);
  };
  // A resume of a long run restores thousands of steps: a few are listed, a run of more is one line.
  let restored: { name: string; status: string }[] = [];
  const flushRestored = () => {
    if (restored.length <= RESTORED_LISTED) for (const r of restored) write(`${r.name} ${r.status} earlier; output restored`);
    else
      write(
        `flow: ${restored.length} steps restored from the record (they succeeded earlier), ${restored[0]!.name} to ${restored.at(-1)!.name}`,
      );
    restored = [];
  };
  const handlers = dispatch({
    'run-started': (e) =>
      write(`flow: run ${e.run.id} ${e.resumed ? 'resumed' : 'started'}: ${e.run.workflowName} (${e.run.workflowPath})`),
    'run-finished': (e) => write(`flow: run ${e.runId} ${e.status} in ${duration(e.durationMs)}${e.error ? `: ${e.error.message}` : ''}`),
    'step-started': (e) => write(`[${label(e.stepId, e.item)}] started${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`),
    'step-output': (e) => {
      const key = `${e.stepId}#${e.item}#${e.stream}`;
      const prefix = `[${label(e.stepId, e.item)}]${e.stream === 'stderr' ? ' stderr' : ''}`;
      const lines = ((partial.get(key) ?? '') + e.text).split('\n');
      partial.set(key, lines.pop() ?? '');
      for (const line of lines) write(`${prefix} | ${line}`);
    },
    'step-retrying': (e) =>
      write(`[${label(e.stepId, e.item)}] attempt ${e.attempt} failed (${errorText(e.error)}); retrying in ${duration(e.delayMs)}`),
    'step-finished': (e) => {
      for (const stream of ['stdout', 'stderr'])
        flush(`${e.stepId}#${e.item}#${stream}`, `[${label(e.stepId, e.item)}]${stream === 'stderr' ? ' stderr' : ''}`);
      const r = e.result;
      const why = r.status === 'skipped' || r.reason ? ` (${r.reason})` : r.error ? `: ${errorText(r.error)}` : '';
      write(`[${label(e.stepId, e.item)}] ${r.status}${r.status === 'skipped' ? '' : ` in ${duration(e.durationMs)}`}${why}`);
    },
    'step-restored': () => {},
    'cache-hit': (e) => write(`[${label(e.stepId, e.item)}] cache hit`),
    log: (e) => write(`flow: ${e.level === 'warning' ? 'warning: ' : ''}${e.message}`),
  });
  return (event) => {
    if (event.type === 'step-restored') {
      restored.push({ name: `[${label(event.stepId, event.item)}]`, status: event.result.status });
      return;
    }
    if (restored.length > 0) flushRestored();
    handlers(event);
  };
}

const RESTORED_LISTED = 20;

function errorText(error: StepError): string {
  return `${error.class}: ${error.message}`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
