import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runYaml, statusOf } from '../helpers/engine.js';

// A script that fails until it has been called `n` times, counting in a file: real attempts, not a fake clock.
const failTimes = (n: number, code = 1) =>
  `c=$(cat count 2>/dev/null || echo 0); c=$((c+1)); echo $c > count; [ $c -gt ${n} ] || exit ${code}; echo "ok after $c"`;

const attemptsOf = (statePath: string, stepId: string) => {
  const db = new Database(statePath, { readonly: true });
  try {
    return db.prepare('SELECT attempt, status, error, delay_ms FROM attempts WHERE step_id = ? ORDER BY attempt').all(stepId) as {
      attempt: number;
      status: string;
      error: string | null;
      delay_ms: number | null;
    }[];
  } finally {
    db.close();
  }
};

describe('retries', () => {
  it('retries a failing step until it succeeds, recording each attempt with its error and delay', async () => {
    const run = await runYaml(
      `steps:\n  - id: flaky\n    type: shell\n    retry: { max_attempts: 4, backoff: exponential, initial_delay: 10ms, max_delay: 1s, jitter: none }\n    config:\n      run: ${JSON.stringify(failTimes(2))}\n`,
    );
    expect(statusOf(run, 'flaky')).toBe('succeeded');
    expect(readFileSync(join(run.dir, 'count'), 'utf8').trim()).toBe('3');
    expect(run.outcome.results.get('flaky')?.attempts).toBe(3);
    const rows = attemptsOf(run.statePath, 'flaky');
    expect(rows.map((r) => [r.attempt, r.status, r.delay_ms])).toEqual([
      [1, 'failed', 10],
      [2, 'failed', 20],
      [3, 'succeeded', null],
    ]);
    expect(JSON.parse(rows[0]!.error!)).toMatchObject({ class: 'exit:1' });
  });

  it('gives up after max_attempts', async () => {
    const run = await runYaml(
      `steps:\n  - id: flaky\n    type: shell\n    retry: { max_attempts: 2, initial_delay: 1ms }\n    config:\n      run: ${JSON.stringify(failTimes(5))}\n`,
    );
    expect(statusOf(run, 'flaky')).toBe('failed');
    expect(readFileSync(join(run.dir, 'count'), 'utf8').trim()).toBe('2');
  });

  it('retries only the error classes named in on', async () => {
    const run = await runYaml(
      `steps:\n  - id: flaky\n    type: shell\n    retry: { max_attempts: 5, initial_delay: 1ms, on: [exit:75] }\n    config:\n      run: ${JSON.stringify(failTimes(5, 2))}\n`,
    );
    expect(statusOf(run, 'flaky')).toBe('failed');
    expect(readFileSync(join(run.dir, 'count'), 'utf8').trim()).toBe('1');
  });

  it('takes the retry policy from defaults', async () => {
    const run = await runYaml(
      `defaults:\n  retry: { max_attempts: 3, initial_delay: 1ms }\nsteps:\n  - id: flaky\n    type: shell\n    config:\n      run: ${JSON.stringify(failTimes(2))}\n`,
    );
    expect(statusOf(run, 'flaky')).toBe('succeeded');
  });

  it('keeps the idempotency key the same across attempts', async () => {
    const run = await runYaml(
      `steps:\n  - id: flaky\n    type: shell\n    retry: { max_attempts: 3, initial_delay: 1ms }\n    config:\n      run: 'echo "$FLOW_ATTEMPT $FLOW_IDEMPOTENCY_KEY $FLOW_STEP_ID" >> seen; ${failTimes(2).replace(/'/g, "'\\''")}'\n`,
    );
    const seen = readFileSync(join(run.dir, 'seen'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(seen.map((s) => s[0])).toEqual(['1', '2', '3']);
    expect(new Set(seen.map((s) => s[1])).size).toBe(1);
    expect(seen[0]![1]).toMatch(/^[0-9a-f]{32}$/);
    expect(seen[0]![2]).toBe('flaky');
  });
});

describe('timeouts', () => {
  it('kills the whole process group of a step that runs past its timeout, and records class timeout', async () => {
    const run = await runYaml(
      'steps:\n  - id: slow\n    type: shell\n    timeout: 1s\n    config:\n      run: "sleep 30 & echo $! > child.pid; wait"\n',
    );
    expect(statusOf(run, 'slow')).toBe('failed');
    expect(run.outcome.results.get('slow')?.error?.class).toBe('timeout');
    const pid = Number(readFileSync(join(run.dir, 'child.pid'), 'utf8'));
    await expect
      .poll(
        () => {
          try {
            process.kill(pid, 0);
            return 'alive';
          } catch {
            return 'gone';
          }
        },
        { timeout: 5000 },
      )
      .toBe('gone');
  });

  it('retries a timeout like any other failure', async () => {
    const run = await runYaml(
      'steps:\n  - id: slow\n    type: shell\n    timeout: 1s\n    retry: { max_attempts: 2, initial_delay: 1ms, on: [timeout] }\n    config:\n      run: "echo x >> tries; sleep 30"\n',
    );
    expect(readFileSync(join(run.dir, 'tries'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(run.outcome.results.get('slow')?.error?.class).toBe('timeout');
  });

  it('stops the whole run at the run-level timeout', async () => {
    const run = await runYaml(
      'timeout: 300ms\nsteps:\n  - id: slow\n    type: shell\n    config: { run: "sleep 30" }\n  - id: next\n    type: shell\n    config: { run: "true" }\n',
    );
    expect(run.outcome.status).toBe('failed');
    expect(run.outcome.error?.class).toBe('timeout');
    expect(run.outcome.results.has('next')).toBe(false);
  });
});

describe('group timeouts', () => {
  it('a group past its timeout stops its steps, kills their processes, and fails with class timeout', async () => {
    const run = await runYaml(
      'steps:\n  - id: g\n    timeout: 1s\n    steps:\n      - { id: slow, type: shell, config: { run: "echo $$ > slow.pid; sleep 30" } }\n      - { id: never, type: shell, config: { run: "touch never" } }\n',
    );
    expect(statusOf(run, 'g')).toBe('failed');
    expect(run.outcome.results.get('g')?.error?.class).toBe('timeout');
    expect(run.outcome.results.has('never')).toBe(false);
    const pid = Number(readFileSync(join(run.dir, 'slow.pid'), 'utf8'));
    await expect
      .poll(
        () => {
          try {
            process.kill(pid, 0);
            return 'alive';
          } catch {
            return 'gone';
          }
        },
        { timeout: 5000 },
      )
      .toBe('gone');
  });
});
