import { expect } from 'vitest';
import { StepFailure } from '../../src/engine/step-failure.js';

/** The StepFailure a promise rejects with (fails the test when it resolves or rejects otherwise). */
export async function failure(promise: Promise<unknown>): Promise<StepFailure> {
  const err = await promise.then(
    (value) => {
      throw new Error(`expected a StepFailure, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StepFailure);
  return err as StepFailure;
}
