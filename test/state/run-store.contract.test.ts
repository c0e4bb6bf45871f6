import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../src/model/errors.js';
import type { RunOwner, RunRecord, StepAttempt } from '../../src/model/run.js';
import { noSpend } from '../../src/model/spend.js';
import { openPgHistory } from '../../src/state/postgres/pg-history.js';
import { openPgStore } from '../../src/state/postgres/pg-store.js';
import type { RunHistory } from '../../src/state/run-history.js';
import type { RunStore } from '../../src/state/run-store.js';
import { openSqliteHistory } from '../../src/state/sqlite-history.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import { tempDir } from '../helpers/engine.js';
import { POSTGRES_MISSING, type PostgresServer, postgresBinaries, startPostgres } from '../helpers/postgres.js';
import { aResult, aRun } from '../helpers/records.js';

// One contract, two stores: every RunStore promise holds on the SQLite file and on PostgreSQL (a throwaway server
// of the test's own; each test in a schema of its own).

const owner = (token: string, pid = 1): RunOwner => ({ host: 'h', pid, processStart: '1', token });
const record = (id: string, extra: Partial<RunRecord> = {}): RunRecord =>
  aRun({ id, workflowPath: '/w.yaml', owner: owner('first'), heartbeatAt: 1, ...extra });
const dead = () => false;
const anAttempt = (runId: string, stepId: string, startedAt: string, extra: Partial<StepAttempt> = {}): StepAttempt => ({
  runId,
  stepId,
  item: -1,
  attempt: 1,
  status: 'running',
  error: undefined,
  startedAt,
  endedAt: undefined,
  delayMs: undefined,
  ...extra,
});
const alive = () => true;

let postgres: PostgresServer | undefined;
let schemas = 0;
const hasPostgres = postgresBinaries() !== undefined;
if (!hasPostgres) console.warn(`run-store contract on PostgreSQL skipped: ${POSTGRES_MISSING}`);

beforeAll(async () => {
  if (hasPostgres) postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

const stores: [string, boolean, () => RunStore][] = [
  ['SQLite', false, () => openSqliteStore(join(tempDir(), 'state.db'))],
  ['PostgreSQL', !hasPostgres, () => openPgStore(`${postgres!.url}?schema=t${++schemas}`)],
];

describe.each(stores)('the RunStore contract on %s', (_name, skip, open) => {
  it.skipIf(skip)('keeps a run, its attempts, results, output and events as written', () => {
    const store = open();
    store.createRun(record('r1', { inputs: { n: 1 }, shape: { steps: {} } as never }));
    store.recordAttempt(anAttempt('r1', 'a', 't1'));
    store.attemptFinished(anAttempt('r1', 'a', 't1', { status: 'succeeded', endedAt: 't2' }));
    store.stepFinished('r1', 'a', -1, aResult('succeeded', { output: { big: 'x'.repeat(10_000) }, outputs: { k: [1, 2] }, masked: true }));
    store.stepFinished('r1', 'b', 3, aResult('failed', { error: { class: 'exit:2', message: 'no' } }));
    store.appendLog({
      runId: 'r1',
      stepId: 'a',
      item: -1,
      attempt: 1,
      stream: 'stdout',
      text: 'hello\n',
      seq: 1,
      eventSeq: 2,
      time: 1_700_000_000_000,
    });
    store.appendEvent('r1', 1, 'run-started', '{"type":"run-started"}');
    store.appendEvent('r1', 3, 'step-finished', '{"type":"step-finished"}');
    expect(store.lastEventSeq('r1')).toBe(3);
    expect(store.lastEventSeq('none')).toBe(0);
    expect(store.lastAttempt('r1', 'a', -1)).toBe(1);
    expect(store.lastAttempt('r1', 'a', 0)).toBe(0);
    const results = Object.fromEntries(store.stepResults('r1').map((r) => [`${r.stepId}#${r.item}`, r.result]));
    expect(results['a#-1']).toMatchObject({
      status: 'succeeded',
      output: { big: 'x'.repeat(10_000) },
      outputs: { k: [1, 2] },
      masked: true,
    });
    expect(results['b#3']).toMatchObject({ status: 'failed', error: { class: 'exit:2', message: 'no' } });
    expect(results['b#3']!.masked).toBeUndefined();
    store.finishRun('r1', 'succeeded', 't3', { out: 'v' }, undefined);
    expect(store.getRun('r1')).toMatchObject({
      status: 'succeeded',
      endedAt: 't3',
      outputs: { out: 'v' },
      inputs: { n: 1 },
      owner: undefined,
    });
    expect(store.getRun('r1')?.shape).toEqual({ steps: {} });
    expect(store.getRun('gone')).toBeUndefined();
    store.close();
  });

  it.skipIf(skip)('a transaction commits all its writes or none', () => {
    const store = open();
    store.createRun(record('r1'));
    expect(() =>
      store.transaction(() => {
        store.stepFinished('r1', 'a', -1, aResult());
        throw new Error('midway');
      }),
    ).toThrow('midway');
    expect(store.stepResults('r1')).toEqual([]);
    store.transaction(() => store.stepFinished('r1', 'a', -1, aResult()));
    expect(store.stepResults('r1')).toHaveLength(1);
    store.close();
  });

  it.skipIf(skip)('a claim of a dead owner’s run marks its running attempts and child runs interrupted', () => {
    const store = open();
    store.createRun(record('r1'));
    store.createRun(record('child', { parentRunId: 'r1' }));
    store.recordAttempt(anAttempt('r1', 'a', 't'));
    store.recordAttempt(anAttempt('child', 'c', 't'));
    expect(store.claimRun('r1', owner('second'), 10, alive)).toMatchObject({ kind: 'owned', owner: { token: 'first' } });
    const claim = store.claimRun('r1', owner('second'), 10, dead);
    expect(claim).toMatchObject({ kind: 'claimed', interrupted: 2, run: { attempt: 2, status: 'running', owner: { token: 'second' } } });
    expect(store.getRun('child')).toMatchObject({ status: 'interrupted', owner: undefined });
    expect(store.claimRun('nope', owner('second'), 10, dead).kind).toBe('unknown');
    store.close();
  });

  it.skipIf(skip)('a claim finds a run that succeeded meanwhile, and takes it only to re-run it (--from)', () => {
    const store = open();
    store.createRun(record('r1'));
    store.finishRun('r1', 'succeeded', '2026-01-01T00:00:01Z', { v: 1 }, undefined);
    expect(store.claimRun('r1', owner('second'), 10, dead).kind).toBe('succeeded');
    expect(store.getRun('r1')?.status).toBe('succeeded');
    const taken = store.claimRun('r1', owner('second'), 10, dead, true);
    expect(taken.kind === 'claimed' && taken.run.attempt).toBe(2);
    store.close();
  });

  it.skipIf(skip)('a heartbeat keeps the child runs of its owner alive too, and says whether the run is still its own', () => {
    const store = open();
    store.createRun(record('parent'));
    store.createRun(record('child', { parentRunId: 'parent' }));
    expect(store.heartbeat('parent', 'first', 5000)).toBe(true);
    expect(store.getRun('child')?.heartbeatAt).toBe(5000);
    store.claimRun('parent', owner('thief'), 6000, dead);
    expect(store.heartbeat('parent', 'first', 7000)).toBe(false);
    store.close();
  });

  it.skipIf(skip)('the fence refuses a write for a run that is no longer this owner’s, or no longer exists', () => {
    const store = open();
    store.createRun(record('r1'));
    expect(() => store.assertOwner('r1', 'first')).not.toThrow();
    expect(() => store.transaction(() => store.assertOwner('r1', 'other'))).toThrow(LeaseLostError);
    expect(() => store.assertOwner('gone', 'first')).toThrow(/was removed from the state/);
    store.close();
  });

  it.skipIf(skip)('keeps cache entries until they expire, and one model per workflow text and build', () => {
    const store = open();
    store.cachePut('k', { v: 1 }, '2026-01-02T00:00:00Z');
    store.cachePut('forever', [1], undefined);
    expect(store.cacheGet('k', '2026-01-01T00:00:00Z')).toEqual({ v: 1 });
    expect(store.cacheGet('k', '2026-01-03T00:00:00Z')).toBeUndefined();
    store.cachePut('k', { v: 2 }, undefined);
    expect(store.cacheGet('k', '2026-01-03T00:00:00Z')).toEqual({ v: 2 });
    expect(store.cacheGet('forever', '2099-01-01T00:00:00Z')).toEqual([1]);
    store.saveModel('h', 'b1', { name: 'first' } as never);
    store.saveModel('h', 'b1', { name: 'second' } as never);
    expect(store.loadModel('h', 'b1')).toEqual({ name: 'first' });
    expect(store.loadModel('h', 'b2')).toBeUndefined();
    store.close();
  });

  it.skipIf(skip)('a remote attempt is claimed once, renewed and recorded only under its claim, and revoked at most once', () => {
    const store = open();
    store.createRun(record('r1'));
    const key = { runId: 'r1', stepId: 'each', item: 3, attempt: 1, jobId: 'r1.each.3.1' };
    const scope = { previous: 'p', steps: { a: { output: 1 } }, item: { n: 3 }, index: 3 };
    store.queueRemote({ ...key, scope }, 1000);
    // Submitted again (a reconciler after a takeover): the first record stands.
    store.queueRemote({ ...key, scope: { previous: 'other', steps: {} } }, 2000);
    expect(store.remoteAttempts(['r1.each.3.1', 'none'])).toEqual([
      { ...key, state: 'queued', scope, worker: undefined, until: undefined, result: undefined, queuedAt: 1000 },
    ]);
    expect(store.claimRemote(['r1.each.3.1'], 'tok-a', 'h:1', 5000)).toMatchObject([
      { state: 'claimed', worker: 'h:1', until: 5000, scope },
    ]);
    expect(store.claimRemote(['r1.each.3.1'], 'tok-b', 'h:2', 5000)).toEqual([]);
    expect(store.renewRemote(['r1.each.3.1'], 'tok-b', 9000)).toEqual([]);
    expect(store.renewRemote(['r1.each.3.1'], 'tok-a', 9000)).toEqual(['r1.each.3.1']);
    const result = { status: 'succeeded' as const, output: { ok: 1 }, lines: [{ stream: 'stdout' as const, text: 'hi\n' }] };
    expect(store.finishRemote([{ jobId: 'r1.each.3.1', token: 'tok-b', result }])).toEqual([]);
    expect(store.finishRemote([{ jobId: 'r1.each.3.1', token: 'tok-a', result }])).toEqual(['r1.each.3.1']);
    // A revoke that comes after the result finds it done, and changes nothing.
    expect(store.revokeRemote('r1.each.3.1')).toMatchObject({ state: 'done', until: 9000, result });
    expect(store.finishRemote([{ jobId: 'r1.each.3.1', token: 'tok-a', result: { ...result, output: 'again' } }])).toEqual([]);

    store.queueRemote({ ...key, attempt: 2, jobId: 'r1.each.3.2', scope }, 3000);
    store.claimRemote(['r1.each.3.2'], 'tok-c', 'h:3', 4000);
    expect(store.revokeRemote('r1.each.3.2')).toMatchObject({ state: 'revoked', worker: 'h:3', result: undefined });
    // The fence: a worker whose claim was revoked can neither renew it nor record a result.
    expect(store.renewRemote(['r1.each.3.2'], 'tok-c', 8000)).toEqual([]);
    expect(store.finishRemote([{ jobId: 'r1.each.3.2', token: 'tok-c', result }])).toEqual([]);
    expect(store.claimRemote(['r1.each.3.2'], 'tok-d', 'h:4', 8000)).toEqual([]);
    // One call records results of claims made under different tokens (a worker's concurrent jobs), each under its own.
    for (const item of [4, 5, 6]) store.queueRemote({ ...key, item, jobId: `r1.each.${item}.1`, scope }, 3000);
    store.claimRemote(['r1.each.4.1', 'r1.each.5.1'], 'tok-e', 'h:5', 9000);
    store.claimRemote(['r1.each.6.1'], 'tok-f', 'h:5', 9000);
    expect(
      store
        .finishRemote([
          { jobId: 'r1.each.4.1', token: 'tok-e', result },
          { jobId: 'r1.each.5.1', token: 'tok-f', result },
          { jobId: 'r1.each.6.1', token: 'tok-f', result },
        ])
        .sort(),
    ).toEqual(['r1.each.4.1', 'r1.each.6.1']);
    expect(
      store
        .remoteAttempts(['r1.each.3.1', 'r1.each.3.2', 'r1.each.4.1', 'r1.each.5.1', 'r1.each.6.1'])
        .map((a) => `${a.jobId} ${a.state}`)
        .sort(),
    ).toEqual(['r1.each.3.1 done', 'r1.each.3.2 revoked', 'r1.each.4.1 done', 'r1.each.5.1 claimed', 'r1.each.6.1 done']);
    store.queueRemote({ ...key, item: 7, jobId: 'r1.each.7.1', scope }, 3000);
    expect(
      store
        .settledRemote(['r1.each.3.1', 'r1.each.3.2', 'r1.each.5.1', 'r1.each.6.1', 'r1.each.7.1', 'none'])
        .map((a) => a.jobId)
        .sort(),
    ).toEqual(['r1.each.3.1', 'r1.each.3.2', 'r1.each.6.1']);
    store.close();
  });

  it.skipIf(skip)('a concurrency cap gives out at most its limit of slots per key; a released or lapsed slot is free again', () => {
    const store = open();
    expect(store.acquireSlot('api', 'a', 2, 5000, 1000)).toBe(true);
    expect(store.acquireSlot('api', 'b', 2, 5000, 1000)).toBe(true);
    expect(store.acquireSlot('api', 'c', 2, 5000, 1000)).toBe(false);
    // Another key has slots of its own; a holder asking again keeps the one it has.
    expect(store.acquireSlot('db', 'c', 1, 5000, 1000)).toBe(true);
    expect(store.acquireSlot('api', 'a', 2, 6000, 1000)).toBe(true);
    store.releaseSlot('api', 'a');
    expect(store.acquireSlot('api', 'c', 2, 5000, 2000)).toBe(true);
    expect(store.acquireSlot('api', 'd', 2, 9000, 2000)).toBe(false);
    // b stopped renewing: after its lease it no longer counts, and its renewal then finds the slot gone.
    expect(store.renewSlot('api', 'c', 9000)).toBe(true);
    expect(store.acquireSlot('api', 'd', 2, 9000, 5001)).toBe(true);
    expect(store.renewSlot('api', 'b', 9000)).toBe(false);
    expect(store.acquireSlot('api', 'e', 2, 9000, 5001)).toBe(false);
    store.close();
  });
});

describe.skipIf(!hasPostgres)('a PostgreSQL store flow cannot use', () => {
  it('a server that does not answer: one error naming the URL, its password masked', () => {
    expect(() => openPgStore('postgres://flow:hunter2@127.0.0.1:1/flow')).toThrow(
      /^cannot use the state store postgres:\/\/flow:\*\*\*@127\.0\.0\.1:1\/flow: .*ECONNREFUSED/,
    );
  });

  it('a schema of a newer flow, or of another program, is refused and left as it was', async () => {
    const { SyncPgClient } = await import('../../src/state/postgres/sync-client.js');
    const admin = new SyncPgClient(postgres!.url);
    admin.query('CREATE SCHEMA newer; CREATE TABLE newer.schema_version (version INTEGER); INSERT INTO newer.schema_version VALUES (99)');
    admin.query('CREATE SCHEMA theirs; CREATE TABLE theirs.orders (id INTEGER)');
    expect(() => openPgStore(`${postgres!.url}?schema=newer`)).toThrow(/written by a newer flow \(schema 99; this flow knows \d+\)/);
    expect(() => openPgStore(`${postgres!.url}?schema=theirs`)).toThrow(/schema theirs holds tables of another program/);
    const tables = admin.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'theirs'`).rows.map((r) => r['tablename']);
    expect(tables).toEqual(['orders']);
    admin.close();
  });

  it('a store opened again finds its schema in place, and each connection sees the others’ commits', async () => {
    const url = `${postgres!.url}?schema=together`;
    const opened = Array.from({ length: 4 }, () => openPgStore(url));
    opened[0]!.createRun(record('r1'));
    expect(opened[3]!.getRun('r1')?.id).toBe('r1');
    for (const s of opened) s.close();
  });
});

// An attempt recorded as it stands: started (a shell step's, before its process), or whole once it has ended (an
// in-process step's), over one recorded before under its number; read back as `flow show` reads it.
const withHistory: [string, boolean, () => [RunStore, () => RunHistory]][] = [
  [
    'SQLite',
    false,
    () => {
      const path = join(tempDir(), 'state.db');
      return [openSqliteStore(path), () => openSqliteHistory(path)];
    },
  ],
  [
    'PostgreSQL',
    !hasPostgres,
    () => {
      const url = `${postgres!.url}?schema=t${++schemas}`;
      return [openPgStore(url), () => openPgHistory(url)];
    },
  ],
];

describe.each(withHistory)('recordAttempt on %s', (_name, skip, open) => {
  it.skipIf(skip)('writes every field of an ended attempt, over the running one recorded before it', () => {
    const [store, history] = open();
    store.createRun(record('r1'));
    store.recordAttempt(anAttempt('r1', 'a', 't1'));
    const error = { class: 'error', message: 'no' };
    const ai = { ...noSpend(), calls: 1, models: ['m'], promptTokens: 10, completionTokens: 2, cost: 0.5 };
    store.recordAttempt(anAttempt('r1', 'a', 't1', { status: 'failed', error, endedAt: 't2', delayMs: 50, ai }));
    store.recordAttempt(anAttempt('r1', 'a', 't3', { attempt: 2, status: 'succeeded', endedAt: 't4' }));
    const read = history();
    const attempts = read.stepAttempts('r1');
    read.close();
    store.close();
    expect(attempts).toMatchObject([
      { stepId: 'a', attempt: 1, status: 'failed', error, startedAt: 't1', endedAt: 't2', delayMs: 50, ai },
      { stepId: 'a', attempt: 2, status: 'succeeded', startedAt: 't3', endedAt: 't4' },
    ]);
    expect(attempts[1]!.error).toBeUndefined();
  });
});
