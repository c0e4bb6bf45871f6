import type { RunRecord, StepResult, StepStatus } from '../../src/model/run.js';

// Records as the store keeps them, for tests that need one: every field set, the ones a test cares about given.

export function aRun(extra: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'r1',
    workflowName: 'w',
    workflowPath: 'w.yaml',
    definition: 'steps: []',
    definitionHash: 'h',
    inputs: {},
    status: 'running',
    startedAt: '2026-01-01T00:00:00Z',
    endedAt: undefined,
    outputs: undefined,
    error: undefined,
    parentRunId: undefined,
    attempt: 1,
    owner: undefined,
    heartbeatAt: undefined,
    ...extra,
  };
}

export function aResult(status: StepStatus = 'succeeded', extra: Partial<StepResult> = {}): StepResult {
  return {
    status,
    output: null,
    outputs: {},
    error: undefined,
    reason: undefined,
    attempts: 1,
    startedAt: '',
    endedAt: '',
    ...extra,
  };
}
