import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputOf, runYaml, statusOf, tempDir, writeFile } from '../helpers/engine.js';

const sh = (id: string, run: string, extra = '') =>
  `  - id: ${id}\n    type: shell\n${extra}    config:\n      run: ${JSON.stringify(run)}\n`;

describe('running steps in order', () => {
  it('passes outputs from step to step, by id and as previous', async () => {
    const run = await runYaml(
      'inputs:\n  who: { type: string, default: ada }\nsteps:\n' +
        sh('greet', 'printf \'{"name": "%s"}\' "$WHO"', '    env: { WHO: "${{ inputs.who }}" }\n') +
        '  - id: shout\n    type: transform\n    config:\n      value: ${{ $uppercase(steps.greet.output.json.name) }}\n' +
        '  - id: echo_previous\n    type: transform\n    config:\n      value: "${{ previous }}!"\n' +
        'outputs:\n  result: ${{ steps.echo_previous.output }}\n',
    );
    expect(run.outcome.status).toBe('succeeded');
    expect(outputOf(run, 'shout')).toBe('ADA');
    expect(outputOf(run, 'echo_previous')).toBe('ADA!');
    expect(run.outcome.outputs).toEqual({ result: 'ADA!' });
  });

  it('stops at the first failure and records the run as failed', async () => {
    const run = await runYaml(`steps:\n${sh('ok', 'true')}${sh('bad', 'echo boom >&2; exit 3')}${sh('never', 'true')}`);
    expect(run.outcome.status).toBe('failed');
    expect(statusOf(run, 'bad')).toBe('failed');
    expect(run.outcome.results.get('bad')?.error).toEqual({ class: 'exit:3', message: "'echo boom >&2; exit 3' exited with code 3: boom" });
    expect(run.outcome.results.has('never')).toBe(false);
    expect(run.outcome.error?.message).toContain("step 'bad'");
  });

  it('skips a step whose if is false, with the reason', async () => {
    const run = await runYaml(`steps:\n${sh('a', 'true')}${sh('b', 'true', "    if: steps.a.status = 'failed'\n")}`);
    expect(statusOf(run, 'b')).toBe('skipped');
    expect(run.outcome.results.get('b')?.reason).toContain('was false');
  });

  it('lets continue_on_error and on_error: continue carry on past a failure', async () => {
    const run = await runYaml(
      `steps:\n${sh('a', 'exit 1', '    continue_on_error: true\n')}${sh('b', 'exit 2', '    on_error: continue\n')}${sh('c', 'true')}`,
    );
    expect(run.outcome.status).toBe('succeeded');
    expect([statusOf(run, 'a'), statusOf(run, 'b'), statusOf(run, 'c')]).toEqual(['failed', 'failed', 'succeeded']);
  });

  it('runs a fallback in place of a failed step and takes its output', async () => {
    const run = await runYaml(
      'steps:\n' +
        sh('primary', 'exit 7', '    on_error: { fallback: backup }\n') +
        '  - id: after\n    type: transform\n    config: { value: "${{ steps.primary.output }}" }\n' +
        'fallbacks:\n  - id: backup\n    type: transform\n    config: { value: "from backup after ${{ steps.primary.error.class }}" }\n',
    );
    expect(run.outcome.status).toBe('succeeded');
    expect(statusOf(run, 'primary')).toBe('succeeded');
    expect(run.outcome.results.get('primary')?.reason).toMatch(/^recovered by fallback 'backup' after: /);
    expect(outputOf(run, 'after')).toBe('from backup after exit:7');
  });

  it('runs on_failure and finally after a failure, on_success and finally after success', async () => {
    const handlers =
      'on_success:\n' +
      sh('yay', 'true') +
      'on_failure:\n' +
      sh('nay', 'echo "${{ steps.main.status }}"') +
      'finally:\n' +
      sh('always', 'true');
    const failed = await runYaml(`steps:\n${sh('main', 'exit 1')}${handlers}`);
    expect([statusOf(failed, 'yay'), statusOf(failed, 'nay'), statusOf(failed, 'always')]).toEqual([undefined, 'succeeded', 'succeeded']);
    expect((outputOf(failed, 'nay') as { stdout: string }).stdout).toBe('failed\n');
    expect(failed.outcome.status).toBe('failed');
    const passed = await runYaml(`steps:\n${sh('main', 'true')}${handlers}`);
    expect([statusOf(passed, 'yay'), statusOf(passed, 'nay'), statusOf(passed, 'always')]).toEqual(['succeeded', undefined, 'succeeded']);
  });

  it('computes named outputs from the step result', async () => {
    const run = await runYaml(
      'steps:\n' +
        sh('a', 'echo 41', '    outputs: { n: "${{ $number($trim(output.stdout)) + 1 }}" }\n') +
        '  - id: b\n    type: transform\n    config: { value: "${{ steps.a.outputs.n }}" }\n',
    );
    expect(run.outcome.results.get('a')?.outputs).toEqual({ n: 42 });
    expect(outputOf(run, 'b')).toBe(42);
  });
});

describe('parallel groups', () => {
  it('runs siblings at the same time: each waits for a file the other writes', async () => {
    const wait = (mine: string, theirs: string) =>
      `touch ${mine}; for i in $(seq 1 200); do [ -f ${theirs} ] && exit 0; sleep 0.02; done; exit 1`;
    const run = await runYaml(
      `steps:\n  - id: g\n    parallel:\n      steps:\n    ${sh('a', wait('a.flag', 'b.flag')).replace(/\n(?=.)/g, '\n    ')}    ${sh('b', wait('b.flag', 'a.flag')).replace(/\n(?=.)/g, '\n    ')}`,
    );
    expect(run.outcome.status).toBe('succeeded');
    expect(outputOf(run, 'g')).toMatchObject({ a: { exit_code: 0 }, b: { exit_code: 0 } });
  });

  it('honours max_concurrency: with 1, siblings never overlap', async () => {
    const step = (id: string) =>
      `        - id: ${id}\n          type: shell\n          config: { run: "echo start-${id} >> log; sleep 0.05; echo end-${id} >> log" }\n`;
    const run = await runYaml(
      `steps:\n  - id: g\n    parallel:\n      max_concurrency: 1\n      steps:\n${step('a')}${step('b')}${step('c')}`,
    );
    const log = readFileSync(join(run.dir, 'log'), 'utf8').trim().split('\n');
    expect(log).toEqual(['start-a', 'end-a', 'start-b', 'end-b', 'start-c', 'end-c']);
  });

  it('fail_fast cancels running siblings and kills their processes', async () => {
    const slow = `        - id: slow\n          type: shell\n          config: { run: "echo $$ > slow.pid; sleep 30; touch slow.done" }\n`;
    const fail = `        - id: fail\n          type: shell\n          config: { run: "for i in $(seq 1 200); do [ -s slow.pid ] && exit 4; sleep 0.02; done" }\n`;
    const run = await runYaml(`steps:\n  - id: g\n    parallel:\n      steps:\n${slow}${fail}`);
    expect(run.outcome.status).toBe('failed');
    expect(statusOf(run, 'fail')).toBe('failed');
    expect(statusOf(run, 'slow')).toBe('cancelled');
    const pid = Number(readFileSync(join(run.dir, 'slow.pid'), 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(join(run.dir, 'slow.done'))).toBe(false);
  });

  it('without fail_fast lets siblings finish, then fails', async () => {
    const slow = `        - id: slow\n          type: shell\n          config: { run: "sleep 0.2; touch slow.done" }\n`;
    const fail = `        - id: fail\n          type: shell\n          config: { run: "exit 4" }\n`;
    const run = await runYaml(`steps:\n  - id: g\n    parallel:\n      fail_fast: false\n      steps:\n${slow}${fail}`);
    expect(run.outcome.status).toBe('failed');
    expect(statusOf(run, 'slow')).toBe('succeeded');
    expect(existsSync(join(run.dir, 'slow.done'))).toBe(true);
  });

  it('nests a sequential group inside a parallel one', async () => {
    const run = await runYaml(
      'steps:\n  - id: g\n    parallel:\n      steps:\n        - id: seq\n          steps:\n' +
        '            - { id: one, type: transform, config: { value: 1 } }\n' +
        '            - { id: two, type: transform, config: { value: "${{ steps.one.output + 1 }}" } }\n' +
        '        - { id: other, type: transform, config: { value: x } }\n',
    );
    expect(outputOf(run, 'two')).toBe(2);
    expect(outputOf(run, 'g')).toEqual({ seq: { one: 1, two: 2 }, other: 'x' });
  });
});

describe('for_each', () => {
  it('runs once per item with item and index, and collects outputs in order', async () => {
    const run = await runYaml(
      'steps:\n  - id: each\n    for_each: [c, a, b]\n    max_concurrency: 3\n    type: shell\n    config:\n      command: [sh, -c, \'sleep 0.0$2; printf "%s-%s" "$1" "$2"\', x, "${{ item }}", "${{ index }}"]\n',
    );
    expect((outputOf(run, 'each') as { stdout: string }[]).map((o) => o.stdout)).toEqual(['c-0', 'a-1', 'b-2']);
    const items = run.events.filter((e) => e.type === 'step-finished' && e.stepId === 'each' && e.item >= 0);
    expect(items).toHaveLength(3);
  });

  it('fails the step when an item fails', async () => {
    const run = await runYaml(
      'steps:\n  - id: each\n    for_each: [0, 5, 0]\n    type: shell\n    config:\n      command: [sh, -c, \'exit "$1"\', x, "${{ item }}"]\n',
    );
    expect(statusOf(run, 'each')).toBe('failed');
    expect(run.outcome.results.get('each')?.error?.class).toBe('exit:5');
  });

  it('takes a single value as a list of one, and nothing as no items (JSONata gives one match unwrapped)', async () => {
    const yaml =
      'inputs:\n  objs: { type: array }\nsteps:\n  - id: each\n    for_each: ${{ inputs.objs.name }}\n    type: transform\n    config: { value: "${{ item }}!" }\n';
    expect(outputOf(await runYaml(yaml, { inputs: { objs: [{ name: 'x' }] } }), 'each')).toEqual(['x!']);
    expect(outputOf(await runYaml(yaml, { inputs: { objs: [{ name: 'x' }, { name: 'y' }] } }), 'each')).toEqual(['x!', 'y!']);
    expect(outputOf(await runYaml(yaml, { inputs: { objs: [] } }), 'each')).toEqual([]);
  });
});

describe('workflow and custom steps', () => {
  it('runs a child workflow and returns its outputs', async () => {
    const dir = tempDir();
    writeFile(
      dir,
      'child.yaml',
      'inputs:\n  n: { type: integer }\nsteps:\n  - { id: double, type: transform, config: { value: "${{ inputs.n * 2 }}" } }\noutputs:\n  doubled: ${{ steps.double.output }}\n',
    );
    const run = await runYaml('steps:\n  - id: call\n    type: workflow\n    config: { path: child.yaml, inputs: { n: 21 } }\n', { dir });
    expect(run.outcome.status).toBe('succeeded');
    expect(outputOf(run, 'call')).toEqual({ doubled: 42 });
    expect(run.events.some((e) => e.type === 'step-finished' && e.stepId === 'call/double')).toBe(true);
  });

  it('runs a custom executor module with its config and context', async () => {
    const dir = tempDir();
    writeFile(
      dir,
      'greet.mjs',
      'export async function execute(config, context) { return { text: `hello ${config.who} from ${context.stepId}` }; }\n',
    );
    const run = await runYaml('executors: { greet: ./greet.mjs }\nsteps:\n  - { id: hi, type: greet, config: { who: ada } }\n', { dir });
    expect(outputOf(run, 'hi')).toEqual({ text: 'hello ada from hi' });
  });

  it('an ai_processing step that names no model fails once, as validation, saying what to give', async () => {
    const run = await runYaml('steps:\n  - { id: ask, type: ai, config: { prompt: hi } }\n');
    expect(run.outcome.results.get('ask')?.error).toEqual({
      class: 'validation',
      message: expect.stringMatching(/^no model: give the step a `model:`/),
    });
    expect(run.outcome.results.get('ask')?.attempts).toBe(1);
  });

  it('input steps check required fields and output the inputs', async () => {
    const yaml = 'inputs:\n  url: { type: string }\nsteps:\n  - { id: in, type: input, config: { required_fields: [url] } }\n';
    expect(outputOf(await runYaml(yaml, { inputs: { url: 'http://x' } }), 'in')).toEqual({ url: 'http://x' });
    const missing = await runYaml(yaml);
    expect(missing.outcome.results.get('in')?.error).toEqual({
      class: 'validation',
      message: 'missing required input: url (pass --input url=...)',
    });
  });
});

describe('secrets', () => {
  it('are masked in events, outputs and the state file', async () => {
    const secret = 'sk-very-secret-value';
    const run = await runYaml(`secrets: [API_TOKEN]\nsteps:\n${sh('leak', 'echo "token=$API_TOKEN"')}`, { env: { API_TOKEN: secret } });
    expect(run.outcome.status).toBe('succeeded');
    expect(JSON.stringify(run.events)).not.toContain(secret);
    expect(JSON.stringify(run.events)).toContain('token=***');
    expect(readFileSync(run.statePath).includes(Buffer.from(secret))).toBe(false);
  });
});

describe('cache', () => {
  it('reuses the stored result of the same resolved config in a later run, and not after the ttl', async () => {
    const dir = tempDir();
    const yaml = (ttl: string) =>
      `inputs:\n  n: { type: integer }\nsteps:\n  - id: slow\n    type: shell\n    cache: { ttl: ${ttl} }\n    config: { run: "echo ran >> count; echo \${{ inputs.n }}" }\n`;
    const first = await runYaml(yaml('1h'), { dir, inputs: { n: 1 } });
    const second = await runYaml(yaml('1h'), { dir, inputs: { n: 1 } });
    expect((outputOf(second, 'slow') as { stdout: string }).stdout).toBe('1\n');
    expect(second.events.some((e) => e.type === 'cache-hit' && e.stepId === 'slow')).toBe(true);
    expect(readFileSync(join(dir, 'count'), 'utf8').trim().split('\n')).toHaveLength(1);
    await runYaml(yaml('1h'), { dir, inputs: { n: 2 } });
    expect(readFileSync(join(dir, 'count'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(first.outcome.results.get('slow')?.reason).toBeUndefined();
    await runYaml(yaml('1ms'), { dir, inputs: { n: 3 } });
    await new Promise((r) => setTimeout(r, 20));
    await runYaml(yaml('1ms'), { dir, inputs: { n: 3 } });
    expect(readFileSync(join(dir, 'count'), 'utf8').trim().split('\n')).toHaveLength(4);
  });
});

describe('environment', () => {
  it('resolves the workflow env once and gives it, with the step env, to every step', async () => {
    const run = await runYaml(
      'inputs:\n  who: { type: string, default: ada }\nenv:\n  GREETING: "hello ${{ inputs.who }}"\n  PLAIN: x\nsteps:\n' +
        sh('a', 'echo "$GREETING $PLAIN $OWN"', '    env: { OWN: "${{ env.GREETING }}!" }\n'),
    );
    expect((outputOf(run, 'a') as { stdout: string }).stdout).toBe('hello ada x hello ada!\n');
  });
});

describe('a workflow env that cannot be computed', () => {
  it('fails the run with the expression error, and runs no step', async () => {
    const run = await runYaml(`env:\n  N: "\${{ $number('x') }}"\nsteps:\n${sh('a', 'touch ran')}`);
    expect(run.outcome.status).toBe('failed');
    expect(run.outcome.error?.class).toBe('expression');
    expect(existsSync(join(run.dir, 'ran'))).toBe(false);
  });
});

describe('group env', () => {
  it('is inherited by the steps inside the group, and a step env overrides it', async () => {
    const run = await runYaml(
      'steps:\n  - id: g\n    env: { A: group, B: group }\n    parallel:\n      steps:\n' +
        '        - id: seq\n          env: { B: inner }\n          steps:\n            - { id: one, type: shell, env: { C: own }, config: { run: "echo $A $B $C" } }\n' +
        '  - { id: outside, type: shell, config: { run: "echo ${A:-unset}" } }\n',
    );
    expect((outputOf(run, 'one') as { stdout: string }).stdout).toBe('group inner own\n');
    expect((outputOf(run, 'outside') as { stdout: string }).stdout).toBe('unset\n');
  });
});
