import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { currentOwner } from '../../src/state/lease.js';
import { openSqliteHistory } from '../../src/state/sqlite-history.js';
import { runYaml, tempDir, writeFile } from '../helpers/engine.js';

const shell = (id: string, run: string, extra = '') => `  - { id: ${id}, type: shell, config: { run: "${run}" }${extra} }\n`;

/** Changes recorded rows directly: what a crash, a live driver or the passing of time would have left. */
function edit(statePath: string, sql: string, ...params: unknown[]): void {
  const db = new Database(statePath);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

const count = (statePath: string, table: 'cache') => {
  const db = new Database(statePath, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('RunHistory over SQLite', () => {
  it('lists top-level runs newest first, filtered by status and workflow, up to a limit', async () => {
    const dir = tempDir();
    const ok = await runYaml(`name: alpha\nsteps:\n${shell('a', 'true')}`, { dir });
    const bad = await runYaml(`name: beta\nsteps:\n${shell('b', 'exit 3')}`, { dir });
    writeFile(dir, 'child.yaml', `name: child\nsteps:\n${shell('c', 'true')}`);
    const parent = await runYaml(`name: alpha\nsteps:\n  - { id: sub, type: workflow, config: { path: child.yaml } }\n`, { dir });
    const history = openSqliteHistory(ok.statePath);
    try {
      const ids = (filter = {}) => history.listRuns(filter).map((r) => r.id);
      expect(ids()).toEqual([parent.outcome.runId, bad.outcome.runId, ok.outcome.runId]);
      expect(ids({ limit: 2 })).toEqual([parent.outcome.runId, bad.outcome.runId]);
      expect(ids({ status: 'failed' })).toEqual([bad.outcome.runId]);
      expect(ids({ workflow: 'alpha' })).toEqual([parent.outcome.runId, ok.outcome.runId]);
      expect(ids({ workflow: 'alpha', status: 'failed' })).toEqual([]);
      expect(history.listRuns({ limit: 1 })[0]).toMatchObject({ workflowName: 'alpha', status: 'succeeded', attempt: 1 });
      expect(history.childRuns(parent.outcome.runId).map((r) => r.workflowName)).toEqual(['child']);
    } finally {
      history.close();
    }
  });

  it('shows a run recorded as running as interrupted once its owner is gone, and as running while it lives', async () => {
    const dir = tempDir();
    const dead = await runYaml(`steps:\n${shell('a', 'true')}`, { dir });
    const live = await runYaml(`steps:\n${shell('a', 'true')}`, { dir });
    const me = currentOwner();
    const setOwner = (runId: string, heartbeatAt: number) =>
      edit(
        dead.statePath,
        `UPDATE runs SET status = 'running', ended_at = NULL, owner_host = ?, owner_pid = ?, owner_start = ?, owner_token = 't', heartbeat_at = ? WHERE id = ?`,
        hostname(),
        me.pid,
        me.processStart,
        heartbeatAt,
        runId,
      );
    // No word from the driver for longer than the lease allows.
    setOwner(dead.outcome.runId, Date.now() - 10 * 60_000);
    setOwner(live.outcome.runId, Date.now());
    // And a step in flight in each, as a driver leaves it when it is killed.
    for (const run of [dead, live])
      edit(dead.statePath, `UPDATE attempts SET status = 'running', ended_at = NULL WHERE run_id = ?`, run.outcome.runId);
    for (const run of [dead, live]) edit(dead.statePath, `DELETE FROM steps WHERE run_id = ?`, run.outcome.runId);
    const history = openSqliteHistory(dead.statePath);
    try {
      expect(history.listRuns({}).map((r) => [r.id, r.status])).toEqual([
        [live.outcome.runId, 'running'],
        [dead.outcome.runId, 'interrupted'],
      ]);
      expect(history.listRuns({ status: 'interrupted' }).map((r) => r.id)).toEqual([dead.outcome.runId]);
      expect(history.listRuns({ status: 'running' }).map((r) => r.id)).toEqual([live.outcome.runId]);
      expect(history.getRun(dead.outcome.runId)?.status).toBe('interrupted');
      expect(history.steps(dead.outcome.runId).map((s) => [s.stepId, s.result.status, s.result.attempts])).toEqual([
        ['a', 'interrupted', 1],
      ]);
      expect(history.steps(live.outcome.runId).map((s) => [s.stepId, s.result.status])).toEqual([['a', 'running']]);
    } finally {
      history.close();
    }
    const trusting = openSqliteHistory(dead.statePath, { alive: () => true });
    try {
      expect(trusting.listRuns({ status: 'running' })).toHaveLength(2);
    } finally {
      trusting.close();
    }
  });

  it('gives back stored output in order: by step, item and attempt, child runs included, and finds steps by name', async () => {
    const dir = tempDir();
    writeFile(dir, 'child.yaml', `steps:\n${shell('inner', 'echo from child')}`);
    const yaml =
      'steps:\n' +
      shell('first', 'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three') +
      '  - { id: each, type: shell, for_each: [1, 2], config: { run: "echo item ${{ item }}" } }\n' +
      shell('flaky', 'echo try $FLOW_ATTEMPT; exit 1', ', retry: { max_attempts: 2, initial_delay: 1ms }, continue_on_error: true') +
      '  - { id: sub, type: workflow, config: { path: child.yaml } }\n';
    const run = await runYaml(yaml, { dir });
    const id = run.outcome.runId;
    const history = openSqliteHistory(run.statePath);
    try {
      const text = (step?: string, attempt?: number) =>
        history
          .logs(id, { ...(step ? { step } : {}), ...(attempt ? { attempt } : {}) })
          .map((c) => `${c.stepId}#${c.item}@${c.attempt} ${c.stream} ${c.text.trimEnd().replaceAll('\n', '/')}`);
      expect(text()).toEqual([
        'first#-1@1 stdout one',
        'first#-1@1 stderr two',
        'first#-1@1 stdout three',
        'each#0@1 stdout item 1',
        'each#1@1 stdout item 2',
        'flaky#-1@1 stdout try 1',
        'flaky#-1@2 stdout try 2',
        'sub/inner#-1@1 stdout from child',
      ]);
      expect(text('flaky', 2)).toEqual(['flaky#-1@2 stdout try 2']);
      expect(text('each[1]')).toEqual(['each#1@1 stdout item 2']);
      expect(text('sub')).toEqual(['sub/inner#-1@1 stdout from child']);
      expect(text('first', 2)).toEqual([]);
      expect(['first', 'each', 'each[0]', 'sub', 'sub/inner'].map((s) => history.hasStep(id, s))).toEqual([true, true, true, true, true]);
      expect(['firs', 'each[7]', 'nope'].map((s) => history.hasStep(id, s))).toEqual([false, false, false]);
    } finally {
      history.close();
    }
  });

  it('prunes old finished runs with their steps, attempts, output and child runs, keeps the newest N, and shrinks the file', async () => {
    const dir = tempDir();
    writeFile(dir, 'child.yaml', `steps:\n${shell('inner', 'echo child')}`);
    const yaml = `steps:\n${shell('a', 'seq 1 5000')}  - { id: sub, type: workflow, config: { path: child.yaml } }\n`;
    const runs: string[] = [];
    for (let i = 0; i < 4; i++) runs.push((await runYaml(yaml, { dir })).outcome.runId);
    const statePath = `${dir}/.flow/state.db`;
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    // Three runs (and their child runs) ended long ago; keep: 2 keeps the newest of them with the recent one.
    for (const id of runs.slice(0, 3)) edit(statePath, `UPDATE runs SET ended_at = ? WHERE id = ? OR parent_run_id = ?`, old, id, id);
    const rowsOf = (ids: string[]) => {
      const db = new Database(statePath, { readonly: true });
      try {
        const tree = `WITH RECURSIVE tree(id) AS (SELECT value FROM json_each(?) UNION SELECT runs.id FROM runs JOIN tree ON parent_run_id = tree.id)`;
        return ['runs', 'steps', 'attempts', 'logs'].map(
          (t) =>
            (
              db
                .prepare(`${tree} SELECT count(*) AS n FROM ${t} WHERE ${t === 'runs' ? 'id' : 'run_id'} IN (SELECT id FROM tree)`)
                .get(JSON.stringify(ids)) as { n: number }
            ).n,
        );
      } finally {
        db.close();
      }
    };
    const pruned = runs.slice(0, 2);
    expect(rowsOf(pruned).every((n) => n > 0)).toBe(true);
    const kept = rowsOf(runs.slice(2));
    const history = openSqliteHistory(statePath);
    try {
      const outcome = history.prune({ endedBefore: Date.now() - 30 * 86_400_000, keep: 2 });
      expect(outcome.runs).toBe(2);
      // Each pruned run held about 24 KB of output, twice (its log and its step's output).
      expect(outcome.bytesReclaimed).toBeGreaterThan(40_000);
      expect(history.listRuns({}).map((r) => r.id)).toEqual([runs[3], runs[2]]);
    } finally {
      history.close();
    }
    expect(rowsOf(pruned)).toEqual([0, 0, 0, 0]);
    expect(rowsOf(runs.slice(2))).toEqual(kept);
  });

  it('never prunes a run that a live process drives, however old it is', async () => {
    const run = await runYaml(`steps:\n${shell('a', 'true')}`);
    const me = currentOwner();
    edit(
      run.statePath,
      `UPDATE runs SET status = 'running', started_at = ?, ended_at = NULL, owner_host = ?, owner_pid = ?, owner_start = ?, owner_token = 't', heartbeat_at = ?`,
      new Date(Date.now() - 90 * 86_400_000).toISOString(),
      hostname(),
      me.pid,
      me.processStart,
      Date.now(),
    );
    const history = openSqliteHistory(run.statePath);
    try {
      expect(history.prune({ endedBefore: Date.now(), keep: 0 }).runs).toBe(0);
      expect(history.listRuns({})).toHaveLength(1);
    } finally {
      history.close();
    }
    const dead = openSqliteHistory(run.statePath, { alive: () => false });
    try {
      expect(dead.prune({ endedBefore: Date.now(), keep: 0 }).runs).toBe(1);
    } finally {
      dead.close();
    }
  });

  it('clears the step cache and says how many entries it held', async () => {
    const dir = tempDir();
    const run = await runYaml(`steps:\n${shell('a', 'echo a', ', cache: true')}${shell('b', 'echo b', ', cache: true')}`, { dir });
    expect(count(run.statePath, 'cache')).toBe(2);
    const history = openSqliteHistory(run.statePath);
    try {
      expect(history.clearCache()).toBe(2);
      expect(history.clearCache()).toBe(0);
    } finally {
      history.close();
    }
    const again = await runYaml(`steps:\n${shell('a', 'echo a', ', cache: true')}${shell('b', 'echo b', ', cache: true')}`, { dir });
    expect(again.outcome.results.get('a')?.reason).toBeUndefined();
  });
});
