import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { secretForms } from '../../src/engine/masking.js';
import { type CliResult, flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { defaultState, query } from '../helpers/state.js';

const schema = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'schema', 'events.schema.json'), 'utf8'));
const validate = new Ajv2020({ allErrors: true }).compile(schema);

interface ResultJson {
  status: string;
  attempts: number;
  output: unknown;
  outputs: unknown;
  error: unknown;
  reason: unknown;
}

/** A line read as the schema (checked first) describes it; a field its event type lacks is undefined. */
interface Line {
  type: string;
  run_id?: string;
  step_id?: string;
  item?: number;
  attempt?: number;
  status?: string;
  outputs?: unknown;
  error?: unknown;
  run?: { id: string; attempt: number; parent_run_id: string | null };
  result?: ResultJson;
  [field: string]: unknown;
}

let dir: string;
beforeEach(() => {
  dir = tempDir('flow-json-');
});
const write = (name: string, text: string) => writeFileSync(join(dir, name), text);

/** stdout as NDJSON: every line an object the published schema accepts, nothing else. */
function events(r: CliResult): Line[] {
  expect(r.stdout.endsWith('\n'), r.stdout).toBe(true);
  return r.stdout
    .slice(0, -1)
    .split('\n')
    .map((text) => {
      const line = JSON.parse(text) as Line;
      expect(validate(line), `${text}\n${JSON.stringify(validate.errors)}`).toBe(true);
      return line;
    });
}

interface Replayed {
  runs: Map<string, { status: string; outputs: unknown; error: unknown; attempt: number; parent: string | null }>;
  /** Per run/step#item: the step's last result. */
  steps: Map<string, ResultJson>;
  /** Per run/step#item@attempt: how that attempt ended (or 'running'). */
  attempts: Map<string, string>;
}

const key = (runId: string, stepId: string, item: number) => `${runId}/${stepId}#${item}`;

// The state a stream describes, folded from its lines alone (not with the reporters' own tally), so the stream is
// checked against the record independently of how flow itself reads its events.
function replay(lines: Line[]): Replayed {
  const out: Replayed = { runs: new Map(), steps: new Map(), attempts: new Map() };
  const stepKey = (l: Line) => key(l.run_id!, l.step_id!, l.item!);
  const setResult = (l: Line) => {
    const { status, attempts, output, outputs, error, reason } = l.result!;
    out.steps.set(stepKey(l), { status, attempts, output, outputs, error, reason });
  };
  for (const l of lines) {
    switch (l.type) {
      case 'run-started': {
        const { id, attempt, parent_run_id } = l.run!;
        out.runs.set(id, { status: 'running', outputs: null, error: null, attempt, parent: parent_run_id });
        break;
      }
      case 'run-finished':
        Object.assign(out.runs.get(l.run_id!)!, { status: l.status, outputs: l.outputs, error: l.error });
        break;
      // Attempt 0 is no attempt: a skip or a group.
      case 'step-started':
        if (l.attempt! > 0) out.attempts.set(`${stepKey(l)}@${l.attempt}`, 'running');
        break;
      case 'step-retrying':
        out.attempts.set(`${stepKey(l)}@${l.attempt}`, 'failed');
        break;
      case 'step-finished':
        if (l.attempt! > 0) out.attempts.set(`${stepKey(l)}@${l.attempt}`, l.result!.status);
        setResult(l);
        break;
      case 'step-restored':
        setResult(l);
        break;
    }
  }
  return out;
}

const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

interface RunRow {
  id: string;
  status: string;
  outputs: string | null;
  error: string | null;
  attempt: number;
  parent_run_id: string | null;
}
interface StepRow {
  run_id: string;
  step_id: string;
  item: number;
  status: string;
  attempts: number;
  output: string | null;
  outputs: string | null;
  error: string | null;
  reason: string | null;
}
interface AttemptRow {
  run_id: string;
  step_id: string;
  item: number;
  attempt: number;
  status: string;
}

/** What the state file recorded, in the shape of `replay`'s result. */
function recorded(runIds: string[]): Replayed {
  const state = defaultState(dir);
  const marks = runIds.map(() => '?').join(', ');
  const out: Replayed = { runs: new Map(), steps: new Map(), attempts: new Map() };
  const runs = query<RunRow>(
    state,
    `SELECT id, status, outputs, error, attempt, parent_run_id FROM runs WHERE id IN (${marks})`,
    ...runIds,
  );
  for (const r of runs)
    out.runs.set(r.id, { status: r.status, outputs: parse(r.outputs), error: parse(r.error), attempt: r.attempt, parent: r.parent_run_id });
  for (const s of query<StepRow>(state, `SELECT * FROM steps WHERE run_id IN (${marks})`, ...runIds)) {
    const { status, attempts, reason } = s;
    const result = { status, attempts, output: parse(s.output), outputs: parse(s.outputs), error: parse(s.error), reason };
    out.steps.set(key(s.run_id, s.step_id, s.item), result);
  }
  for (const a of query<AttemptRow>(state, `SELECT * FROM attempts WHERE run_id IN (${marks})`, ...runIds))
    out.attempts.set(`${key(a.run_id, a.step_id, a.item)}@${a.attempt}`, a.status);
  return out;
}

interface ShowJson {
  status: string;
  outputs: unknown;
  steps: { id: string; status: string; attempts: number; output: unknown }[];
}

function expectReplayMatchesRecord(lines: Line[], rootId: string): void {
  const replayed = replay(lines);
  expect(replayed.steps.size).toBeGreaterThan(0);
  expect(replayed).toEqual(recorded([...replayed.runs.keys()]));
  // `flow show` reads the same record: its view of each step agrees with the stream too.
  const show = JSON.parse(flow(['show', rootId, '--json'], dir).stdout) as ShowJson;
  expect(show.status).toBe(replayed.runs.get(rootId)!.status);
  expect(show.outputs).toEqual(replayed.runs.get(rootId)!.outputs);
  const shown = show.steps.filter((step) => replayed.steps.has(key(rootId, step.id, -1)));
  expect(shown.length).toBeGreaterThan(0);
  for (const step of shown) {
    const fromStream = replayed.steps.get(key(rootId, step.id, -1))!;
    expect({ id: step.id, status: step.status, attempts: step.attempts, output: step.output }).toEqual({
      id: step.id,
      status: fromStream.status,
      attempts: fromStream.attempts,
      output: fromStream.output,
    });
  }
}

const WORKFLOW = `
steps:
  - id: greet
    type: shell
    config: { run: "echo hello" }
    outputs: { word: "\${{ output.stdout }}" }
  - id: flaky
    type: shell
    retry: { max_attempts: 3, backoff: constant, initial_delay: 10ms, jitter: none, on: ["exit:any"] }
    config: { run: "if [ -f tried ]; then echo second; else touch tried; exit 1; fi" }
  - id: each
    for_each: [1, 2, 3]
    type: shell
    config: { run: "echo item\${{ item }}" }
  - id: group
    parallel:
      steps:
        - { id: left, type: shell, config: { run: "echo L" } }
        - { id: right, type: shell, config: { run: "echo R" } }
  - id: never
    if: false
    type: shell
    config: { run: "echo never" }
  - id: broken
    type: shell
    continue_on_error: true
    config: { run: "echo oops >&2; exit 3" }
outputs: { word: "\${{ steps.greet.outputs.word }}", items: "\${{ steps.each.output.stdout }}" }
`;

describe('flow run --json', () => {
  it('writes only schema-valid NDJSON events on stdout, progress on stderr, and the outputs in the last event', () => {
    write('w.yaml', WORKFLOW);
    const r = flow(['run', 'w.yaml', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = events(r);
    const id = lines[0]!.run!.id;
    expect(lines[0]).toMatchObject({ type: 'run-started', resumed: false, run: { attempt: 1, parent_run_id: null } });
    expect(r.stderr).toContain(`flow: run ${id} started`);
    expect(r.stderr).toContain('[greet] succeeded');
    expect(lines.at(-1)).toEqual(
      expect.objectContaining({
        type: 'run-finished',
        run_id: id,
        status: 'succeeded',
        outputs: { word: 'hello\n', items: ['item1\n', 'item2\n', 'item3\n'] },
      }),
    );
    const of = (type: string, stepId: string) => lines.filter((l) => l.type === type && l.step_id === stepId);
    expect(of('step-retrying', 'flaky')).toMatchObject([{ attempt: 1, delay_ms: 10, error: { class: 'exit:1' } }]);
    expect(of('step-items', 'each')).toMatchObject([{ item: -1, count: 3 }]);
    expect(of('step-finished', 'never')).toMatchObject([{ attempt: 0, result: { status: 'skipped', attempts: 0 } }]);
    expect(of('step-finished', 'broken')).toMatchObject([{ result: { status: 'failed', error: { class: 'exit:3' } } }]);
    expect(of('step-output', 'broken')).toMatchObject([{ stream: 'stderr', text: 'oops\n' }]);
    expect(of('step-finished', 'group')).toMatchObject([{ kind: 'parallel', result: { status: 'succeeded' } }]);
    expectReplayMatchesRecord(lines, id);
  });

  it('on a resume, says so, restores what succeeded, and the two streams replay to the record', () => {
    write(
      'w.yaml',
      `
steps:
  - { id: first, type: shell, config: { run: "echo one" }, outputs: { word: "\${{ output.stdout }}" } }
  - id: each
    for_each: [1, 2, 3]
    type: shell
    config: { run: "[ \${{ item }} != 2 ] || test -f fixed; echo \${{ item }}" }
  - { id: last, type: shell, config: { run: "echo last" } }
outputs: { word: "\${{ steps.first.outputs.word }}", items: "\${{ steps.each.output.stdout }}" }
`,
    );
    const first = flow(['run', 'w.yaml', '--json'], dir);
    expect(first.code, first.stderr).toBe(1);
    const before = events(first);
    const id = before[0]!.run!.id;
    expect(before.at(-1)).toMatchObject({ type: 'run-finished', run_id: id, status: 'failed', outputs: null });
    expectReplayMatchesRecord(before, id);

    write('fixed', '');
    const second = flow(['resume', id, '--json'], dir);
    expect(second.code, second.stderr).toBe(0);
    const after = events(second);
    expect(after[0]).toMatchObject({ type: 'run-started', resumed: true, run: { id, attempt: 2 } });
    const restored = after.filter((l) => l.type === 'step-restored').map((l) => `${l.step_id}#${l.item}`);
    // The for_each stopped at its failed item: the one before it is restored, the failed one runs again.
    expect(restored).toEqual(['first#-1', 'each#0']);
    expect(after.at(-1)).toMatchObject({
      type: 'run-finished',
      status: 'succeeded',
      outputs: { word: 'one\n', items: ['1\n', '2\n', '3\n'] },
    });
    expectReplayMatchesRecord([...before, ...after], id);
  });

  it('includes a child run’s events under its own run id', () => {
    write(
      'child.yaml',
      'steps:\n  - { id: inner, type: shell, config: { run: "echo in" } }\noutputs: { said: "${{ steps.inner.output.stdout }}" }\n',
    );
    write(
      'w.yaml',
      'steps:\n  - { id: call, type: workflow, config: { path: child.yaml } }\noutputs: { said: "${{ steps.call.output.said }}" }\n',
    );
    const r = flow(['run', 'w.yaml', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = events(r);
    const root = lines[0]!.run!.id;
    const child = lines.find((l) => l.type === 'run-started' && l.run?.parent_run_id === root);
    expect(child).toBeDefined();
    const childSteps = lines.filter((l) => l.run_id === child!.run!.id && l.type === 'step-finished');
    expect(childSteps).toMatchObject([{ step_id: 'call/inner', result: { status: 'succeeded' } }]);
    expect(lines.at(-1)).toMatchObject({ type: 'run-finished', run_id: root, outputs: { said: 'in\n' } });
    expectReplayMatchesRecord(lines, root);
  });

  it('shows no trace of a secret a step prints', () => {
    const token = 'tok-3xample/value+';
    write(
      'w.yaml',
      `secrets: [TOKEN]\nsteps:\n  - { id: leak, type: shell, config: { run: "echo $TOKEN; printf '%s' \\"$TOKEN\\" | base64" } }\noutputs: { out: "\${{ steps.leak.output.stdout }}" }\n`,
    );
    const r = flow(['run', 'w.yaml', '--json'], dir, { TOKEN: token });
    expect(r.code, r.stderr).toBe(0);
    events(r);
    // The step did print it: masked, it shows as ***, in the output event, the result and the run's outputs.
    expect(r.stdout.match(/\*\*\*/g)?.length).toBeGreaterThanOrEqual(3);
    for (const form of secretForms(token)) expect(r.stdout.includes(form), form).toBe(false);
  });
});
