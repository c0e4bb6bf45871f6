import type { FlowEvent, StepKind } from '../../src/model/events.js';
import type { StepResult, StepStatus } from '../../src/model/run.js';
import { noColour } from '../../src/report/palette.js';
import type { ReportContext } from '../../src/report/reporter.js';
import type { StepIndex, StepInfo } from '../../src/report/step-index.js';
import { aResult, aRun } from '../helpers/records.js';

// One fixed run for the reporters' golden tests: every kind of event, a group, a for_each, a retry, a failure.
// A clock that moves 10 ms a call keeps time stamps and durations fixed.

export function fixedClock(start = Date.UTC(2026, 0, 2, 3, 4, 5, 0)): () => number {
  let t = start;
  return () => (t += 10);
}

const place = (id: string, line: number, groups: string[] = [], kind: StepInfo['kind'] = 'action', forEach = false): [string, StepInfo] => [
  id,
  { id, name: undefined, kind, forEach, section: 'steps', groups, at: { file: '/work/w.yaml', line, column: 5, path: '' } },
];

export const sampleIndex: StepIndex = new Map([
  place('build', 3),
  place('checks', 8, [], 'parallel'),
  place('lint', 11, ['checks']),
  place('test', 14, ['checks']),
  place('each', 17, [], 'action', true),
  place('docs', 21),
  place('deploy', 24),
  place('notify', 27),
]);

export function sampleContext(extra: Partial<ReportContext> = {}): ReportContext {
  return {
    index: sampleIndex,
    workflowFile: 'w.yaml',
    resumeCommand: 'flow resume r1',
    palette: noColour,
    secrets: [],
    verbose: false,
    now: fixedClock(),
    ...extra,
  };
}

const base = { runId: 'r1' };
const started = (stepId: string, item = -1, attempt = 1, kind: StepKind = 'action'): FlowEvent => ({
  type: 'step-started',
  ...base,
  stepId,
  item,
  attempt,
  kind,
  at: '',
  durable: kind === 'action',
});
const output = (stepId: string, text: string, stream: 'stdout' | 'stderr' = 'stdout', item = -1): FlowEvent => ({
  type: 'step-output',
  ...base,
  stepId,
  item,
  attempt: 1,
  stream,
  text,
});
const finished = (
  stepId: string,
  status: StepStatus,
  durationMs: number,
  extra: Partial<StepResult> = {},
  item = -1,
  kind: StepKind = 'action',
): FlowEvent => ({
  type: 'step-finished',
  ...base,
  stepId,
  item,
  kind,
  attempt: extra.attempts ?? 1,
  result: aResult(status, extra),
  durationMs,
  durable: kind === 'action',
});

export function sampleEvents(): FlowEvent[] {
  const exit1 = { class: 'exit:1', message: "'npm test' exited with code 1" };
  return [
    { type: 'run-started', run: aRun({ workflowName: 'demo', workflowPath: 'w.yaml' }), resumed: false },
    { type: 'step-restored', ...base, stepId: 'setup', item: -1, result: aResult() },
    started('build'),
    output('build', 'compiling\nwarn: slow disk\n'),
    { type: 'step-retrying', ...base, stepId: 'build', item: -1, attempt: 1, delayMs: 1500, error: exit1, at: '', durable: true },
    started('build', -1, 2),
    output('build', 'compiled'),
    finished('build', 'succeeded', 2300, { attempts: 2 }),
    started('checks', -1, 0, 'parallel'),
    started('lint'),
    started('test'),
    output('test', 'FAIL sum.test.js\n'),
    output('test', 'expected 3, got 4\n', 'stderr'),
    finished('lint', 'succeeded', 800),
    finished('test', 'failed', 1200, { error: exit1 }),
    finished('checks', 'failed', 1210, { error: exit1 }, -1, 'parallel'),
    started('each', -1, 0, 'for_each'),
    { type: 'step-items', ...base, stepId: 'each', item: -1, count: 3 },
    started('each', 0),
    finished('each', 'succeeded', 100, {}, 0),
    started('each', 1),
    output('each', 'no such file\n', 'stderr', 1),
    finished('each', 'failed', 100, { error: { class: 'exit:2', message: 'exited with code 2' } }, 1),
    started('each', 2),
    finished('each', 'succeeded', 100, {}, 2),
    finished('each', 'failed', 330, { error: { class: 'exit:2', message: 'exited with code 2' } }, -1, 'for_each'),
    finished('docs', 'skipped', 0, { reason: 'if: inputs.docs was false', attempts: 0 }),
    started('deploy'),
    { type: 'cache-hit', ...base, stepId: 'deploy', item: -1, key: 'k1' },
    finished('deploy', 'succeeded', 5, { reason: 'cache hit' }),
    { type: 'log', ...base, level: 'warning', message: "step 'notify' has no effect" },
    {
      type: 'run-finished',
      ...base,
      status: 'failed',
      durationMs: 4100,
      error: { class: 'exit:1', message: "step 'checks': 'npm test' exited with code 1" },
      outputs: undefined,
      at: '',
    },
  ];
}
