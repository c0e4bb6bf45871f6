import type { ServerResponse } from 'node:http';
import { FlowError } from '../model/errors.js';

// Errors as application/problem+json (RFC 9457), with the CLI's codes and hints: `type` names the code, `code` and
// `hint` are the same as the CLI prints.

export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  hint?: string | undefined;
}

/** A request the server refuses, with the problem it answers. */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

export function problem(status: number, code: string, title: string, detail: string, hint?: string): ProblemError {
  return new ProblemError({ status, code, title, detail, hint });
}

// A FlowError is the caller's to fix; what the CLI reports as a usage or input error is a 400, an unknown run a 404.
const STATUS_OF_CODE: Record<string, number> = {
  'unknown-run': 404,
  'file-not-readable': 404,
  'run-owned': 409,
  resume: 409,
  'state-file': 500,
  'lease-lost': 409,
};

/** The problem an error answers: its own, a FlowError's (code and hint kept), else an internal error that says no more. */
export function problemOf(err: unknown): Problem {
  if (err instanceof ProblemError) return err.problem;
  if (err instanceof FlowError)
    return { status: STATUS_OF_CODE[err.code] ?? 400, code: err.code, title: titleOf(err.code), detail: err.message, hint: err.hint };
  return { status: 500, code: 'internal', title: 'Internal error', detail: 'the server failed to answer; its log says why' };
}

export function sendProblem(res: ServerResponse, p: Problem): void {
  const body = JSON.stringify({
    type: `urn:flow:problem:${p.code}`,
    title: p.title,
    status: p.status,
    detail: p.detail,
    code: p.code,
    ...(p.hint ? { hint: p.hint } : {}),
  });
  res.writeHead(p.status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store' });
  res.end(body);
}

function titleOf(code: string): string {
  const words = code.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
