import type { FlowEvent } from '../../src/model/events.js';
import { noColour } from '../../src/report/palette.js';
import type { ReportContext } from '../../src/report/reporter.js';
import type { StepIndex, StepInfo } from '../../src/report/step-index.js';
import {
  cacheHit,
  log,
  runFinished,
  runStarted,
  stepError,
  stepFinished,
  stepItems,
  stepOutput,
  stepRestored,
  stepRetrying,
  stepStarted,
} from '../helpers/events.js';

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

export function sampleEvents(): FlowEvent[] {
  const exit1 = stepError("'npm test' exited with code 1");
  const exit2 = stepError('exited with code 2', 'exit:2');
  return [
    runStarted({ workflowName: 'demo', workflowPath: 'w.yaml' }),
    stepRestored('setup'),
    stepStarted('build'),
    stepOutput('build', 'compiling\nwarn: slow disk\n'),
    stepRetrying('build', 1, 1500, exit1),
    stepStarted('build', { attempt: 2 }),
    stepOutput('build', 'compiled'),
    stepFinished('build', 2300, { attempts: 2 }),
    stepStarted('checks', { kind: 'parallel' }),
    stepStarted('lint'),
    stepStarted('test'),
    stepOutput('test', 'FAIL sum.test.js\n'),
    stepOutput('test', 'expected 3, got 4\n', { stream: 'stderr' }),
    stepFinished('lint', 800),
    stepFinished('test', 1200, { status: 'failed', error: exit1 }),
    stepFinished('checks', 1210, { status: 'failed', error: exit1 }, { kind: 'parallel' }),
    stepStarted('each', { kind: 'for_each' }),
    stepItems('each', 3),
    stepStarted('each', { item: 0 }),
    stepFinished('each', 100, {}, { item: 0 }),
    stepStarted('each', { item: 1 }),
    stepOutput('each', 'no such file\n', { stream: 'stderr', item: 1 }),
    stepFinished('each', 100, { status: 'failed', error: exit2 }, { item: 1 }),
    stepStarted('each', { item: 2 }),
    stepFinished('each', 100, {}, { item: 2 }),
    stepFinished('each', 330, { status: 'failed', error: exit2 }, { kind: 'for_each' }),
    stepFinished('docs', 0, { status: 'skipped', reason: 'if: inputs.docs was false', attempts: 0 }),
    stepStarted('deploy'),
    cacheHit('deploy', 'k1'),
    stepFinished('deploy', 5, { reason: 'cache hit' }),
    log('warning', "step 'notify' has no effect"),
    runFinished('failed', 4100, { error: stepError("step 'checks': 'npm test' exited with code 1") }),
  ];
}
