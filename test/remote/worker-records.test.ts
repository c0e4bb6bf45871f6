import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { perTurn, workerRecords } from '../../src/remote/worker-records.js';
import type { RemoteResult } from '../../src/state/remote-attempts.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import { tempDir } from '../helpers/engine.js';
import { aRun } from '../helpers/records.js';

const result: RemoteResult = { status: 'succeeded', output: 1, lines: [] };

describe('a worker’s records', () => {
  it('sends the claims and results asked for in one turn as one call each, and later ones as another', async () => {
    const store = openSqliteStore(join(tempDir(), 'state.db'));
    store.createRun(aRun({ id: 'r1', workflowPath: '/w.yaml' }));
    const ids = [1, 2, 3, 4].map((item) => `r1.each.${item}.1`);
    for (const [item, jobId] of ids.entries())
      store.queueRemote({ runId: 'r1', stepId: 'each', item, attempt: 1, jobId, scope: { previous: null, steps: {} } }, 1);
    const calls: string[] = [];
    const counted = {
      claimRemote(...args: Parameters<typeof store.claimRemote>) {
        calls.push(`claim ${args[0].length}`);
        return store.claimRemote(...args);
      },
      finishRemote(...args: Parameters<typeof store.finishRemote>) {
        calls.push(`finish ${args[0].length}`);
        return store.finishRemote(...args);
      },
    };
    const records = workerRecords(counted, 'h:1', 60_000);

    const [a, b, c] = await Promise.all([records.claim([ids[0]!]), records.claim([ids[1]!, ids[2]!]), records.claim([ids[0]!])]);
    // One turn, one token; each job gets what it asked for, and an attempt is held once.
    expect(a.claimed.map((x) => x.jobId)).toEqual([ids[0]]);
    expect(b.claimed.map((x) => x.jobId)).toEqual([ids[1], ids[2]]);
    expect(c.claimed).toEqual([]);
    expect(new Set([a.token, b.token, c.token]).size).toBe(1);
    const d = await records.claim([ids[3]!]);
    expect(d.token).not.toBe(a.token);

    const [first, second] = await Promise.all([
      records.finish([{ jobId: ids[0]!, token: a.token, result }]),
      records.finish([
        { jobId: ids[3]!, token: d.token, result },
        { jobId: ids[1]!, token: d.token, result },
      ]),
    ]);
    // ids[1] was claimed under a.token, so a result under d.token is fenced.
    expect([...first].sort()).toEqual([ids[0], ids[3]].sort());
    expect(second).toBe(first);
    expect(calls).toEqual(['claim 4', 'claim 1', 'finish 3']);
    store.close();
  });

  it('rejects every call of a turn when its one statement fails', async () => {
    let flushes = 0;
    const ask = perTurn((requests: number[]) => {
      flushes++;
      if (requests.includes(0)) throw new Error('the store did not answer');
      return requests.map((n) => n * 2);
    });
    await expect(Promise.all([ask(1), ask(0)])).rejects.toThrow('the store did not answer');
    await expect(Promise.all([ask(1), ask(2)])).resolves.toEqual([2, 4]);
    expect(flushes).toBe(2);
  });
});
