import { randomBytes } from '../engine/node-crypto.js';
import type { RemoteAttempt, RemoteAttemptStore, RemoteFinish } from '../state/remote-attempts.js';

// A worker's claims and results reach the store together: the jobs that ask in the same turn of the event loop share
// one statement. The store is synchronous (each statement holds the worker's loop for a round trip to the server), so
// with 32 jobs at once a statement per job kept the loop waiting more than half the time and the server busy with
// twice as many transactions.

export interface WorkerRecords {
  /** Claims the queued ones of these attempts under a fresh token, the same for one turn's claims; answers them. */
  claim(jobIds: readonly string[]): Promise<{ token: string; claimed: RemoteAttempt[] }>;
  /** Records results, each under its own claim's token; answers the ids recorded (the others were fenced). */
  finish(results: readonly RemoteFinish[]): Promise<ReadonlySet<string>>;
}

export function workerRecords(
  store: Pick<RemoteAttemptStore, 'claimRemote' | 'finishRemote'>,
  worker: string,
  ttlMs: number,
): WorkerRecords {
  return {
    claim: perTurn((requests: (readonly string[])[]) => {
      const token = randomBytes(12).toString('hex');
      const held = new Map(store.claimRemote(requests.flat(), token, worker, Date.now() + ttlMs).map((a) => [a.jobId, a]));
      // An attempt asked for twice in one turn is held by the first job that asked.
      const take = (id: string) => {
        const attempt = held.get(id);
        held.delete(id);
        return attempt ?? [];
      };
      return requests.map((ids) => ({ token, claimed: ids.flatMap(take) }));
    }),
    finish: perTurn((requests: (readonly RemoteFinish[])[]) => {
      const recorded: ReadonlySet<string> = new Set(store.finishRemote(requests.flat()));
      return requests.map(() => recorded);
    }),
  };
}

/** Calls made in one turn of the event loop, answered (in order) by one call of `flush` with them all. */
export function perTurn<Request, Answer>(flush: (requests: Request[]) => Answer[]): (request: Request) => Promise<Answer> {
  let waiting: { request: Request; resolve: (answer: Answer) => void; reject: (err: unknown) => void }[] = [];
  const flushWaiting = () => {
    const batch = waiting;
    waiting = [];
    let answers: Answer[];
    try {
      answers = flush(batch.map((w) => w.request));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    for (const [i, w] of batch.entries()) w.resolve(answers[i]!);
  };
  return (request) =>
    new Promise<Answer>((resolve, reject) => {
      if (waiting.length === 0) setImmediate(flushWaiting);
      waiting.push({ request, resolve, reject });
    });
}
