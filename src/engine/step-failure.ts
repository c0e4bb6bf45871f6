import type { ErrorClass, StepError } from '../model/run.js';

// A step that failed: data for the run record, not a bug. Executors throw it with the error class retry.on matches.
export class StepFailure extends Error {
  constructor(
    readonly errorClass: ErrorClass,
    message: string,
    /** What the step produced before failing (a shell step's stdout and exit code). */
    readonly output?: unknown,
    /** A delay the other side asked for (HTTP Retry-After). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'StepFailure';
  }
}

export function toStepError(err: unknown): StepError {
  if (err instanceof StepFailure) return { class: err.errorClass, message: err.message };
  const e = err as { code?: string; message?: string; name?: string };
  if (e?.name === 'TimeoutError') return { class: 'timeout', message: e.message ?? 'timed out' };
  if (e?.name === 'AbortError') return { class: 'cancelled', message: e.message ?? 'aborted' };
  if (typeof e?.code === 'string' && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|UND_ERR)/.test(e.code))
    return { class: 'network', message: e.message ?? e.code };
  return { class: 'error', message: e?.message ?? String(err) };
}
