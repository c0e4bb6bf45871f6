// Crash tests choose a durable boundary by name (FLOW_FAILPOINT=name, or name@N for its N-th pass) and
// flow kills itself there with SIGKILL: nothing after that point runs, no handler, no flush, as in a real crash.
// `name:throw` throws an ordinary exception there instead, as a bug in flow would: the exit-code tests see 70.

export type Failpoint =
  | 'before-attempt-record'
  | 'after-attempt-record'
  | 'after-step-exit'
  | 'between-items'
  | 'in-parallel-group'
  | 'in-batch-commit'
  | 'in-run-finish';

const spec = process.env['FLOW_FAILPOINT'];
const [armed, nth, action] = spec ? parse(spec) : [undefined, 0, 'kill'];
let passes = 0;

export function failpoint(name: Failpoint): void {
  if (armed !== name) return;
  passes++;
  if (passes !== nth) return;
  if (action === 'throw') throw new TypeError(`failpoint ${name} reached`);
  process.kill(process.pid, 'SIGKILL');
}

function parse(text: string): [string, number, 'kill' | 'throw'] {
  const action = text.endsWith(':throw') ? 'throw' : 'kill';
  const spec = action === 'throw' ? text.slice(0, -':throw'.length) : text;
  const at = spec.lastIndexOf('@');
  if (at < 0) return [spec, 1, action];
  const n = Number(spec.slice(at + 1));
  return [spec.slice(0, at), Number.isInteger(n) && n > 0 ? n : 1, action];
}
