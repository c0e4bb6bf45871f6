import type { RetryPolicy } from '../model/workflow.js';
import type { StepError } from '../model/run.js';

// Failures that another attempt cannot fix: a bad expression or config, or a stop we were asked for.
// An exhausted API quota is not refilled by waiting.
const NEVER_RETRIED = new Set(['validation', 'expression', 'cancelled', 'interrupted', 'unavailable', 'ai:quota']);

export function matchesErrorClass(pattern: string, errorClass: string): boolean {
  if (pattern === 'any') return true;
  if (pattern === errorClass) return true;
  if (pattern === 'exit:any') return errorClass.startsWith('exit:');
  const family = /^http:([1-5])xx$/.exec(pattern);
  return family !== null && new RegExp(`^http:${family[1]}\\d\\d$`).test(errorClass);
}

/** Whether a failed attempt is tried again under the policy. */
export function shouldRetry(policy: RetryPolicy | undefined, error: StepError, attempt: number): boolean {
  if (!policy || attempt >= policy.maxAttempts) return false;
  if (NEVER_RETRIED.has(error.class)) return false;
  return policy.on.length === 0 || policy.on.some((p) => matchesErrorClass(p, error.class));
}

/** The wait before attempt `attempt + 1`: constant or doubling, capped, with full jitter when asked. */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random, retryAfterMs?: number): number {
  const base = policy.backoff === 'constant' ? policy.initialDelayMs : policy.initialDelayMs * 2 ** (attempt - 1);
  const capped = Math.min(base, policy.maxDelayMs);
  const delay = policy.jitter ? Math.floor(random() * capped) : capped;
  return retryAfterMs === undefined ? delay : Math.max(delay, retryAfterMs);
}
