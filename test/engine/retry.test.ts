import { describe, expect, it } from 'vitest';
import { matchesErrorClass, retryDelay, shouldRetry } from '../../src/engine/retry.js';
import type { RetryPolicy } from '../../src/model/workflow.js';

const policy = (p: Partial<RetryPolicy> = {}): RetryPolicy => ({
  maxAttempts: 3,
  backoff: 'exponential',
  initialDelayMs: 100,
  maxDelayMs: 1000,
  jitter: false,
  on: [],
  ...p,
});

describe('matchesErrorClass', () => {
  it.each([
    ['any', 'exit:1', true],
    ['exit:1', 'exit:1', true],
    ['exit:1', 'exit:2', false],
    ['exit:any', 'exit:137', true],
    ['exit:any', 'timeout', false],
    ['http:5xx', 'http:503', true],
    ['http:5xx', 'http:429', false],
    ['http:429', 'http:429', true],
    ['network', 'network', true],
  ])('%s matches %s: %s', (pattern, cls, expected) => {
    expect(matchesErrorClass(pattern, cls)).toBe(expected);
  });
});

describe('shouldRetry', () => {
  it('retries any failure by default, until max_attempts', () => {
    expect(shouldRetry(policy(), { class: 'exit:1', message: '' }, 1)).toBe(true);
    expect(shouldRetry(policy(), { class: 'exit:1', message: '' }, 3)).toBe(false);
  });

  it('never retries validation, expression, cancellation or interruption', () => {
    for (const cls of ['validation', 'expression', 'cancelled', 'interrupted', 'unavailable', 'ai:quota'])
      expect(shouldRetry(policy({ on: ['any'] }), { class: cls, message: '' }, 1)).toBe(false);
  });

  it('retries only the classes named in on', () => {
    const p = policy({ on: ['http:5xx', 'timeout'] });
    expect(shouldRetry(p, { class: 'http:502', message: '' }, 1)).toBe(true);
    expect(shouldRetry(p, { class: 'timeout', message: '' }, 1)).toBe(true);
    expect(shouldRetry(p, { class: 'http:404', message: '' }, 1)).toBe(false);
  });

  it('does not retry without a policy', () => {
    expect(shouldRetry(undefined, { class: 'exit:1', message: '' }, 1)).toBe(false);
  });
});

describe('retryDelay', () => {
  it('doubles from the initial delay and stops at the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(policy(), n))).toEqual([100, 200, 400, 800, 1000]);
  });

  it('keeps a constant delay', () => {
    expect([1, 2, 3].map((n) => retryDelay(policy({ backoff: 'constant' }), n))).toEqual([100, 100, 100]);
  });

  it('draws full jitter between zero and the computed delay', () => {
    expect(retryDelay(policy({ jitter: true }), 3, () => 0.5)).toBe(200);
    expect(retryDelay(policy({ jitter: true }), 3, () => 0)).toBe(0);
  });

  it('waits at least as long as the server asked (Retry-After)', () => {
    expect(retryDelay(policy(), 1, Math.random, 5000)).toBe(5000);
    expect(retryDelay(policy(), 4, Math.random, 10)).toBe(800);
  });
});
