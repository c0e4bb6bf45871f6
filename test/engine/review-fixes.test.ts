import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runWorkflow } from '../../src/api.js';
import { SecretMasker } from '../../src/engine/masking.js';
import { StateFileError } from '../../src/model/errors.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import { outputOf, runYaml, statusOf, tempDir, writeFile } from '../helpers/engine.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch {
    return 'gone';
  }
};

describe('secrets are masked', () => {
  it('in a URL-encoded form too', () => {
    const masker = new SecretMasker(['s3cr3t/key+value==']);
    expect(masker.text('GET /x?key=s3cr3t%2Fkey%2Bvalue%3D%3D and s3cr3t/key+value==')).toBe('GET /x?key=*** and ***');
  });

  it('when a secret is split across two output chunks, and when a secret input is a number', async () => {
    const run = await runYaml(
      'inputs:\n  pin: { type: integer, secret: true }\nsecrets: [TOKEN]\nsteps:\n  - { id: split, type: shell, config: { run: "printf hunter; sleep 0.2; printf \'2secret\\\\n\'; echo pin=${{ inputs.pin }}" } }\n',
      { env: { TOKEN: 'hunter2secret' }, inputs: { pin: 918273 } },
    );
    const text = JSON.stringify(run.events);
    expect(text).not.toContain('hunter2secret');
    expect(text).not.toContain('918273');
    expect(readFileSync(run.statePath).includes(Buffer.from('918273'))).toBe(false);
  });

  it('in a child workflow given the parent secret as an input', async () => {
    const dir = tempDir();
    writeFile(
      dir,
      'child.yaml',
      'inputs:\n  tok: { type: string }\nsteps:\n  - { id: echo, type: shell, config: { run: "echo child sees ${{ inputs.tok }}" } }\noutputs: { got: "${{ inputs.tok }}" }\n',
    );
    const run = await runYaml(
      'secrets: [TOKEN]\nsteps:\n  - { id: kid, type: workflow, config: { path: child.yaml, inputs: { tok: "${{ secrets.TOKEN }}" } } }\noutputs: { token: "${{ steps.kid.output.got }}" }\n',
      { dir, env: { TOKEN: 'hunter2secret' } },
    );
    expect(JSON.stringify(run.events)).not.toContain('hunter2secret');
    expect(run.outcome.outputs).toEqual({ token: '***' });
    expect(readFileSync(run.statePath).includes(Buffer.from('hunter2secret'))).toBe(false);
  });
});

describe('shell steps', () => {
  it('end when their own process ends, killing a background job that holds stdout', async () => {
    const run = await runYaml('steps:\n  - { id: bg, type: shell, config: { run: "sleep 30 & echo $! > bg.pid; echo started" } }\n');
    expect(statusOf(run, 'bg')).toBe('succeeded');
    const pid = Number(readFileSync(join(run.dir, 'bg.pid'), 'utf8'));
    await expect.poll(() => alive(pid), { timeout: 5000 }).toBe('gone');
  });
});

describe('handlers and failures', () => {
  it('on_failure and finally still run after the run timeout', async () => {
    const run = await runYaml(
      'timeout: 300ms\nsteps:\n  - { id: slow, type: shell, config: { run: "sleep 30" } }\non_failure:\n  - { id: tell, type: shell, config: { run: "touch told" } }\nfinally:\n  - { id: tidy, type: shell, config: { run: "touch tidied" } }\n',
    );
    expect(run.outcome.status).toBe('failed');
    expect(run.outcome.error?.class).toBe('timeout');
    expect(existsSync(join(run.dir, 'told'))).toBe(true);
    expect(existsSync(join(run.dir, 'tidied'))).toBe(true);
  });

  it('the run error names the failure that stopped it, not a tolerated one after it', async () => {
    const run = await runYaml(
      'steps:\n  - { id: build, type: shell, config: { run: "exit 2" } }\nfinally:\n  - { id: upload_logs, type: shell, continue_on_error: true, config: { run: "exit 7" } }\n',
    );
    expect(run.outcome.error?.message).toMatch(/^step 'build': /);
  });

  it('on_error: continue lets a failing for_each go on', async () => {
    const run = await runYaml(
      'steps:\n  - { id: each, for_each: [0, 3], type: shell, on_error: continue, config: { run: "exit ${{ item }}" } }\n  - { id: after, type: transform, config: { value: 1 } }\n',
    );
    expect(run.outcome.status).toBe('succeeded');
    expect([statusOf(run, 'each'), statusOf(run, 'after')]).toEqual(['failed', 'succeeded']);
  });
});

describe('cache', () => {
  it('keys on the step env, and never caches a result holding a secret', async () => {
    const dir = tempDir();
    const yaml =
      'secrets: [TOKEN]\ninputs:\n  who: { type: string }\nsteps:\n  - { id: mk, type: shell, cache: true, env: { WHO: "${{ inputs.who }}" }, config: { run: "echo $WHO >> ran; echo $WHO" } }\n  - { id: leak, type: shell, cache: true, config: { run: "echo $TOKEN" } }\n';
    await runYaml(yaml, { dir, inputs: { who: 'a' }, env: { TOKEN: 'hunter2secret' } });
    const b = await runYaml(yaml, { dir, inputs: { who: 'b' }, env: { TOKEN: 'hunter2secret' } });
    expect((outputOf(b, 'mk') as { stdout: string }).stdout).toBe('b\n');
    expect(readFileSync(join(dir, 'ran'), 'utf8')).toBe('a\nb\n');
    expect(b.events.some((e) => e.type === 'cache-hit' && e.stepId === 'leak')).toBe(false);
  });
});

describe('the library API', () => {
  it('records the run in the store it is given, and applies executor overrides in child workflows', async () => {
    const dir = tempDir();
    writeFile(
      dir,
      'child.yaml',
      'steps:\n  - { id: call, type: http, config: { url: "http://127.0.0.1:1/never" } }\noutputs: { s: "${{ steps.call.output.status }}" }\n',
    );
    const file = writeFile(
      dir,
      'parent.yaml',
      'steps:\n  - { id: kid, type: workflow, config: { path: child.yaml } }\noutputs: { s: "${{ steps.kid.output.s }}" }\n',
    );
    const store = openSqliteStore(join(dir, 'state.db'));
    const outcome = await runWorkflow(file, { store, cwd: dir, executors: { http: async () => ({ status: 299 }) } });
    expect(outcome.outputs).toEqual({ s: 299 });
    expect(store.getRun(outcome.runId)?.status).toBe('succeeded');
    expect(store.stepResults(outcome.runId).map((s) => s.stepId)).toContain('kid');
    store.close();
  });
});

describe('a fallback shared by two steps', () => {
  it('stands in for both at the same time, each with its own output and idempotency key', async () => {
    const run = await runYaml(
      'steps:\n  - id: g\n    parallel:\n      steps:\n' +
        '        - { id: a, type: shell, on_error: { fallback: rescue }, config: { run: "exit 1" } }\n' +
        '        - { id: b, type: shell, on_error: { fallback: rescue }, config: { run: "exit 1" } }\n' +
        'fallbacks:\n  - { id: rescue, type: shell, config: { run: "echo key=$FLOW_IDEMPOTENCY_KEY >> $FLOW_OUTPUT; sleep 0.1" } }\n',
    );
    expect(run.outcome.status).toBe('succeeded');
    const keys = ['a', 'b'].map((id) => (outputOf(run, id) as { key?: string }).key);
    expect(keys.every((k) => typeof k === 'string' && k.length === 32)).toBe(true);
    expect(new Set(keys).size).toBe(2);
    expect([statusOf(run, 'a.rescue'), statusOf(run, 'b.rescue')]).toEqual(['succeeded', 'succeeded']);
  });
});

describe('a store that fails mid-run', () => {
  it('stops the run and kills the steps still running, instead of leaving them behind', async () => {
    const dir = tempDir();
    const file = writeFile(
      dir,
      'w.yaml',
      'steps:\n  - id: g\n    parallel:\n      steps:\n        - { id: slow, type: shell, config: { run: "echo $$ > slow.pid; sleep 30" } }\n        - { id: fast, type: shell, config: { run: "for i in $(seq 1 200); do [ -s slow.pid ] && exit 0; sleep 0.02; done" } }\n',
    );
    const real = openSqliteStore(join(dir, 'state.db'));
    const store = {
      ...real,
      stepFinished: (...args: Parameters<typeof real.stepFinished>) =>
        args[1] === 'fast'
          ? (() => {
              throw new Error('disk full');
            })()
          : real.stepFinished(...args),
    };
    const outcome = await runWorkflow(file, { store, cwd: dir });
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.message).toContain('disk full');
    const pid = Number(readFileSync(join(dir, 'slow.pid'), 'utf8'));
    await expect.poll(() => alive(pid), { timeout: 5000 }).toBe('gone');
    real.close();
  });

  it('on a fault of the state file, stops the run, kills its steps and writes nothing more, whatever commit met it', async () => {
    const dir = tempDir();
    const file = writeFile(
      dir,
      'w.yaml',
      'steps:\n  - id: g\n    parallel:\n      steps:\n        - { id: slow, type: shell, config: { run: "echo $$ > slow.pid; sleep 30" } }\n        - { id: fast, type: shell, config: { run: "for i in $(seq 1 200); do [ -s slow.pid ] && exit 0; sleep 0.02; done" } }\n',
    );
    const path = join(dir, 'state.db');
    const real = openSqliteStore(path);
    // The fast step's result is committed after its event (nothing follows it at once): the fault meets a late commit.
    const store = {
      ...real,
      stepFinished: (...args: Parameters<typeof real.stepFinished>) => {
        if (args[1] === 'fast') throw new StateFileError(path, 'disk full');
        real.stepFinished(...args);
      },
    };
    await expect(runWorkflow(file, { store, cwd: dir })).rejects.toThrow(StateFileError);
    const pid = Number(readFileSync(join(dir, 'slow.pid'), 'utf8'));
    await expect.poll(() => alive(pid), { timeout: 5000 }).toBe('gone');
    real.close();
    // The run stays as last committed, to be resumed: running, its fast step's result not on disk.
    const db = new Database(path, { readonly: true });
    const rows = { runs: db.prepare('SELECT status FROM runs').all(), steps: db.prepare('SELECT step_id FROM steps').all() };
    db.close();
    expect(rows).toEqual({ runs: [{ status: 'running' }], steps: [] });
  });
});
