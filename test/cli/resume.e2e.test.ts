import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { defaultState, query, runIdOf, update } from '../helpers/state.js';

let dir: string;
const write = (name: string, text: string) => {
  mkdirSync(join(dir, name, '..'), { recursive: true });
  writeFileSync(join(dir, name), text);
};
const side = () => readFileSync(join(dir, 'side.log'), 'utf8').trim().split('\n');
const fix = () => writeFileSync(join(dir, 'fixed'), '');

beforeEach(() => {
  dir = tempDir('flow-resume-');
});

// A shell step, a parallel group, a for_each and transforms; `flaky` and item 2 fail until the file `fixed` exists.
const WORKFLOW = `
steps:
  - id: first
    type: shell
    config: { run: "echo first >> side.log; echo one" }
    outputs: { word: "\${{ output.stdout }}" }
  - id: group
    parallel:
      fail_fast: false
      steps:
        - { id: steady, type: shell, config: { run: "echo steady >> side.log; echo s" } }
        - { id: flaky, type: shell, config: { run: "echo flaky:$FLOW_IDEMPOTENCY_KEY:$FLOW_ATTEMPT >> side.log; test -f fixed" } }
  - id: each
    for_each: [1, 2, 3]
    type: shell
    config: { run: "echo item\${{ item }} >> side.log; [ \${{ item }} != 2 ] || test -f fixed; echo \${{ item }}" }
  - id: last
    type: transform
    config: { value: "\${{ steps.first.outputs.word }}|\${{ steps.group.output.steady.stdout }}|\${{ previous }}" }
on_failure:
  - { id: alarm, type: shell, config: { run: "echo alarm >> side.log" } }
finally:
  - { id: tidy, type: shell, config: { run: "echo tidy >> side.log" } }
outputs: { last: "\${{ steps.last.output }}", items: "\${{ steps.each.output.stdout }}" }
`;

describe('flow resume', () => {
  it('runs only what did not succeed, restores the rest into scope, and succeeds as attempt 2', () => {
    write('w.yaml', WORKFLOW);
    const first = flow(['run', 'w.yaml'], dir);
    expect(first.code).toBe(1);
    const id = runIdOf(first.stderr);
    expect(first.stderr).toContain(`to continue it: flow resume ${id}`);
    // fail_fast: false lets `steady` finish; the for_each never started.
    expect(side()).toEqual(expect.arrayContaining(['first', 'steady', 'alarm', 'tidy']));
    expect(side().filter((l) => l.startsWith('item'))).toEqual([]);

    fix();
    const second = flow(['resume', id], dir);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`flow: resuming run ${id} (attempt 2)`);
    // Named outputs, a restored group's child and `previous` (the for_each, run now) are all in scope.
    const outputs = JSON.parse(second.stdout);
    expect(outputs.items).toEqual(['1\n', '2\n', '3\n']);
    const [word, steady, previous] = outputs.last.split('|');
    expect([word, steady]).toEqual(['one\n', 's\n']);
    expect(JSON.parse(previous).map((o: { stdout: string }) => o.stdout)).toEqual(['1\n', '2\n', '3\n']);
    const lines = side();
    // Succeeded steps ran once; the failed one twice, with the same idempotency key and the next attempt number.
    expect(lines.filter((l) => l === 'first')).toHaveLength(1);
    expect(lines.filter((l) => l === 'steady')).toHaveLength(1);
    const flaky = lines.filter((l) => l.startsWith('flaky:')).map((l) => l.split(':'));
    expect(flaky).toHaveLength(2);
    expect(flaky[0]![1]).toBe(flaky[1]![1]);
    expect(flaky.map((f) => f[2])).toEqual(['1', '2']);
    // Handlers run as at the end of a fresh run: on_failure then, finally both times.
    expect(lines.filter((l) => l === 'tidy')).toHaveLength(2);
    expect(lines.filter((l) => l === 'alarm')).toHaveLength(1);
    const [run] = query<{ status: string; attempt: number }>(defaultState(dir), 'SELECT status, attempt FROM runs WHERE id = ?', id);
    expect(run).toEqual({ status: 'succeeded', attempt: 2 });
    const attempts = query<{ step_id: string; attempt: number; run_attempt: number }>(
      defaultState(dir),
      "SELECT step_id, attempt, run_attempt FROM attempts WHERE run_id = ? AND step_id IN ('first', 'flaky') ORDER BY step_id, attempt",
      id,
    );
    expect(attempts).toEqual([
      { step_id: 'first', attempt: 1, run_attempt: 1 },
      { step_id: 'flaky', attempt: 1, run_attempt: 1 },
      { step_id: 'flaky', attempt: 2, run_attempt: 2 },
    ]);
  });

  it('restores `previous` and steps.<id>.output for the first step that runs', () => {
    write(
      'w.yaml',
      'steps:\n  - { id: a, type: shell, config: { run: "echo a >> side.log; echo A" } }\n  - { id: b, type: shell, config: { run: "test -f fixed && echo ${{ previous.stdout }}-${{ steps.a.output.exit_code }}" } }\noutputs: { b: "${{ steps.b.output.stdout }}" }\n',
    );
    const id = runIdOf(flow(['run', 'w.yaml'], dir).stderr);
    fix();
    const r = flow(['resume', id], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ b: 'A -0\n' });
    expect(side()).toEqual(['a']);
  });

  it('re-runs only the unfinished items of a for_each, keeping the outputs in order', () => {
    write(
      'w.yaml',
      'steps:\n  - id: each\n    for_each: [1, 2, 3, 4]\n    type: shell\n    config: { run: "echo item${{ item }} >> side.log; [ ${{ item }} != 3 ] || test -f fixed; echo ${{ item }}" }\noutputs: { out: "${{ steps.each.output.stdout }}" }\n',
    );
    const id = runIdOf(flow(['run', 'w.yaml'], dir).stderr);
    expect(side()).toEqual(['item1', 'item2', 'item3']);
    fix();
    const r = flow(['resume', id], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(side()).toEqual(['item1', 'item2', 'item3', 'item3', 'item4']);
    expect(JSON.parse(r.stdout)).toEqual({ out: ['1\n', '2\n', '3\n', '4\n'] });
  });

  it('gives a retried step a fresh retry budget, numbering its attempts after the recorded ones', () => {
    write(
      'w.yaml',
      'steps:\n  - id: s\n    type: shell\n    retry: { max_attempts: 2, initial_delay: 1ms }\n    config: { run: "echo $FLOW_ATTEMPT >> side.log; test -f fixed" }\n',
    );
    const id = runIdOf(flow(['run', 'w.yaml'], dir).stderr);
    expect(flow(['resume', id], dir).code).toBe(1);
    expect(side()).toEqual(['1', '2', '3', '4']);
  });

  it('says there is nothing to do for a run that succeeded, and names flow runs for an unknown id', () => {
    write(
      'w.yaml',
      'steps:\n  - { id: a, type: shell, config: { run: "echo a >> side.log; echo A" } }\noutputs: { a: "${{ steps.a.output.stdout }}" }\n',
    );
    const id = runIdOf(flow(['run', 'w.yaml'], dir).stderr);
    const again = flow(['resume', id], dir);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already succeeded; nothing to do');
    expect(JSON.parse(again.stdout)).toEqual({ a: 'A\n' });
    expect(side()).toEqual(['a']);
    // With --json, as the one event a finished run ends with.
    const json = flow(['resume', id, '--json'], dir);
    expect(json.code).toBe(0);
    expect(
      json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      expect.objectContaining({ schema_version: 1, type: 'run-finished', run_id: id, status: 'succeeded', outputs: { a: 'A\n' } }),
    ]);
    // With --junit, the report of the run as it stands: its steps restored.
    const junit = flow(['resume', id, '--junit', 'report.xml'], dir);
    expect(junit.code).toBe(0);
    expect(readFileSync(join(dir, 'report.xml'), 'utf8')).toMatch(/<testcase name="a"[^>]*>\s*<system-out>restored/);
    const unknown = flow(['resume', 'nosuchrun'], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no run 'nosuchrun'");
    expect(unknown.stderr).toContain('flow runs');
    expect(unknown.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('refuses a workflow file changed since the run started, naming the steps; --allow-changed re-runs from the first change', () => {
    write(
      'w.yaml',
      'steps:\n  - { id: a, type: shell, config: { run: "echo a >> side.log" } }\n  - { id: b, type: shell, config: { run: "echo b >> side.log" } }\n  - { id: c, type: shell, config: { run: "echo c >> side.log; test -f fixed" } }\n',
    );
    const id = runIdOf(flow(['run', 'w.yaml'], dir).stderr);
    fix();
    // Only a comment changed: the same steps, so the resume goes ahead.
    write('w.yaml', `# a comment\n${readFileSync(join(dir, 'w.yaml'), 'utf8')}`);
    write('w.yaml', readFileSync(join(dir, 'w.yaml'), 'utf8').replace('echo b >>', 'echo B >>'));
    const refused = flow(['resume', id], dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('changed since run');
    expect(refused.stderr).toContain('changed or new steps: b');
    expect(refused.stderr).toContain('--allow-changed');
    expect(side()).toEqual(['a', 'b', 'c']);
    const allowed = flow(['resume', id, '--allow-changed'], dir);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(side()).toEqual(['a', 'b', 'c', 'B', 'c']);
    // The run now records the file as it ran: a later resume finds no change. With --from after the first change,
    // the first change still decides where the re-run starts.
    write('w.yaml', readFileSync(join(dir, 'w.yaml'), 'utf8').replace('echo a >>', 'echo A >>'));
    const both = flow(['resume', id, '--allow-changed', '--from', 'c'], dir);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stderr).toContain('changed or new steps: a');
    expect(side()).toEqual(['a', 'b', 'c', 'B', 'c', 'A', 'B', 'c']);
  });

  it('runs a changed-by-comment file without complaint', () => {
    write('w.yaml', 'steps:\n  - { id: a, type: shell, config: { run: "echo a >> side.log; test -f fixed" } }\n');
    const id = runIdOf(flow(['run', 'w.yaml'], dir).stderr);
    fix();
    write('w.yaml', `# only a comment\n${readFileSync(join(dir, 'w.yaml'), 'utf8')}`);
    expect(flow(['resume', id], dir).code).toBe(0);
  });

  it('--from re-runs that step and everything after it, even what succeeded', () => {
    write(
      'w.yaml',
      'steps:\n  - { id: a, type: shell, config: { run: "echo a >> side.log" } }\n  - { id: b, type: shell, config: { run: "echo b >> side.log" } }\n  - { id: c, type: shell, config: { run: "echo c >> side.log; test -f fixed" } }\n',
    );
    const id = runIdOf(flow(['run', 'w.yaml'], dir).stderr);
    fix();
    const r = flow(['resume', id, '--from', 'b'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(side()).toEqual(['a', 'b', 'c', 'b', 'c']);
    const bad = flow(['resume', id, '--from', 'nope'], dir);
    expect(bad.code).toBe(2);
  });

  it('--plan prints what would be restored and what would run, and runs nothing', () => {
    write('w.yaml', WORKFLOW);
    const id = runIdOf(flow(['run', 'w.yaml'], dir).stderr);
    const before = side();
    const r = flow(['resume', id, '--plan'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/restore\s+first/);
    expect(r.stdout).toMatch(/run\s+group/);
    expect(r.stdout).toMatch(/restore\s+steady/);
    expect(r.stdout).toMatch(/run\s+flaky/);
    expect(r.stdout).toMatch(/run\s+tidy \(finally\)/);
    expect(side()).toEqual(before);
    expect(query<{ attempt: number }>(defaultState(dir), 'SELECT attempt FROM runs WHERE id = ?', id)).toEqual([{ attempt: 1 }]);
  });

  it('takes secret inputs again (they are stored masked), naming the missing ones before anything runs', () => {
    write(
      'w.yaml',
      'inputs:\n  token: { type: string, secret: true }\n  n: { type: integer }\nsteps:\n  - { id: a, type: shell, config: { run: "echo ${{ inputs.n }} >> side.log" } }\n  - { id: b, type: shell, config: { run: "test -f fixed && printf %s \\"$T\\" > got", env: { T: "${{ inputs.token }}" } } }\n',
    );
    const id = runIdOf(flow(['run', 'w.yaml', '--input', 'token=s3cr3t-value', '--input', 'n=7'], dir).stderr);
    expect(readFileSync(defaultState(dir)).includes('s3cr3t-value')).toBe(false);
    fix();
    const missing = flow(['resume', id], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("secret input 'token' must be given again");
    expect(missing.stderr).toContain('--input token=');
    const fixed = flow(['resume', id, '--input', 'n=8'], dir);
    expect(fixed.code).toBe(2);
    expect(fixed.stderr).toContain('inputs are fixed');
    const r = flow(['resume', id, '--input', 'token=s3cr3t-value'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'got'), 'utf8')).toBe('s3cr3t-value');
    expect(side()).toEqual(['7']);
  });

  it('loads the workflow model kept at run time instead of parsing the text again, while the file is unchanged', () => {
    write('w.yaml', 'steps:\n  - { id: a, type: shell, config: { run: "echo a >> side.log; test -f fixed" } }\n');
    const id = runIdOf(flow(['run', 'w.yaml'], dir).stderr);
    const kept = query<{ model: string }>(defaultState(dir), 'SELECT model FROM workflow_models');
    expect(kept).toHaveLength(1);
    // Proof that the kept model is what runs: change it behind flow's back.
    update(defaultState(dir), 'UPDATE workflow_models SET model = ?', kept[0]!.model.replace('echo a >>', 'echo kept >>'));
    fix();
    expect(flow(['resume', id], dir).code).toBe(0);
    expect(side()).toEqual(['a', 'kept']);
  });

  it('keeps secret values out of the record while a secret appears in the workflow text, and resumes it without a false change', () => {
    write(
      'w.yaml',
      'secrets: [TOKEN]\ninputs:\n  key: { type: string, secret: true, default: default-key-123 }\nsteps:\n  - { id: a, type: shell, config: { run: "echo tokval-XYZ >> side.log" } }\n  - { id: b, type: shell, config: { run: "test -f fixed" } }\n',
    );
    const env = { TOKEN: 'tokval-XYZ' };
    const leaks = () => ['tokval-XYZ', 'default-key-123'].filter((v) => readFileSync(defaultState(dir)).includes(v));
    const id = runIdOf(flow(['run', 'w.yaml'], dir, env).stderr);
    expect(leaks()).toEqual([]);
    fix();
    // Stored masked, even a default must be given again: the record cannot tell it from another value.
    const r = flow(['resume', id, '--input', 'key=default-key-123'], dir, env);
    expect(r.code, r.stderr).toBe(0);
    expect(side()).toEqual(['tokval-XYZ']);
    // A real change, run with --allow-changed: the text recorded from then on is masked too.
    write('w.yaml', readFileSync(join(dir, 'w.yaml'), 'utf8').replace('test -f fixed', 'test -f fixed && true'));
    const changed = flow(['resume', id, '--from', 'b', '--allow-changed', '--input', 'key=default-key-123'], dir, env);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stderr).toContain('changed or new steps: b');
    expect(leaks()).toEqual([]);
  });

  it('--no-cache bypasses the step cache on run and resume', () => {
    write('w.yaml', 'steps:\n  - { id: a, type: shell, cache: true, config: { run: "echo a >> side.log; echo out" } }\n');
    expect(flow(['run', 'w.yaml'], dir).code).toBe(0);
    expect(flow(['run', 'w.yaml'], dir).stderr).toContain('[a] cache hit');
    expect(side()).toEqual(['a']);
    expect(flow(['run', 'w.yaml', '--no-cache'], dir).stderr).not.toContain('cache hit');
    expect(side()).toEqual(['a', 'a']);
  });
});
