// Crash tests choose a durable boundary by name (FLOW_FAILPOINT=name, or name@N for its N-th pass) and
// flow kills itself there with SIGKILL: nothing after that point runs, no handler, no flush, as in a real crash.

export type Failpoint =
  | 'before-attempt-record'
  | 'after-step-exit'
  | 'between-items'
  | 'in-parallel-group'
  | 'in-batch-commit'
  | 'in-run-finish';

const spec = process.env['FLOW_FAILPOINT'];
const [armed, nth] = spec ? parse(spec) : [undefined, 0];
let passes = 0;

export function failpoint(name: Failpoint): void {
  if (armed !== name) return;
  passes++;
  if (passes === nth) process.kill(process.pid, 'SIGKILL');
}

function parse(text: string): [string, number] {
  const at = text.lastIndexOf('@');
  if (at < 0) return [text, 1];
  const n = Number(text.slice(at + 1));
  return [text.slice(0, at), Number.isInteger(n) && n > 0 ? n : 1];
}
