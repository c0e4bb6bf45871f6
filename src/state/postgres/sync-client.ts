import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

/** A parameter: a scalar, or a list of texts (`= ANY($1::text[])`, which an index serves). */
export type SqlValue = string | number | boolean | null | readonly string[];
export type PgRow = Record<string, unknown>;

export interface PgResult {
  rows: PgRow[];
  rowCount: number;
}

/** A failure PostgreSQL (or the way to it) reported: its SQLSTATE code where it gave one. */
export class PgQueryError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly detail: string | undefined,
  ) {
    super(message);
  }
}

/** A deferred statement's condition on its first row: when it does not hold, the rest of the batch is not run. */
export interface RowCheck {
  column: string;
  equals: SqlValue;
  /** The error the caller throws then, made from the row found (undefined: no row). */
  fail: (row: PgRow | undefined) => Error;
}

interface Deferred {
  sql: string;
  params: readonly SqlValue[] | undefined;
  check: RowCheck | undefined;
}

/** How long a query may take before the caller stops waiting: a server that went away must not hang a run. */
const QUERY_TIMEOUT_MS = 60_000;

// A synchronous PostgreSQL connection: the RunStore interface is synchronous (a durable record is committed before
// the engine goes on), as better-sqlite3 is. `pg` runs on a worker thread of its own (pg-worker.cjs) and this
// thread waits on a shared word for each answer, so one connection, in order, serves the store's calls; its
// transactions are plain BEGIN/COMMIT on that connection.
export class SyncPgClient {
  private readonly worker: Worker;
  private readonly port;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private closed = false;
  /** Why no query can be asked any more: the worker died, or an answer came too late to be told from the next. */
  private broken: string | undefined;
  private sent = 0;
  /** Statements whose answers nobody waits for: sent with the next query, in one message and one wait. */
  private deferred: Deferred[] = [];
  /** Whether a BEGIN has reached the server (so a failure needs a ROLLBACK there). */
  private begun = false;

  constructor(url: string, applicationName = 'flow') {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./pg-worker.cjs', import.meta.url), {
      workerData: { port: port2, signal: this.signal, pgPath: createRequire(import.meta.url).resolve('pg'), url, applicationName },
      transferList: [port2],
    });
    // The worker must not keep a finished command alive; the port is closed by close().
    this.worker.unref();
    const died = (why: string) => {
      this.broken ??= why;
      Atomics.store(this.signal, 0, 1);
      Atomics.notify(this.signal, 0);
    };
    this.worker.on('error', (err) => died(`the connection's thread failed: ${err.message}`));
    this.worker.on('exit', () => died('the connection was closed'));
  }

  /** Runs one statement (with $1… parameters), or, without parameters, a text of several; answers the last rows. */
  query(sql: string, params?: readonly SqlValue[]): PgResult {
    if (this.closed) throw new PgQueryError('the PostgreSQL connection is closed', undefined, undefined);
    if (this.broken) throw new PgQueryError(this.broken, undefined, undefined);
    const batch = [...this.deferred, { sql, params, check: undefined }];
    this.deferred = [];
    const id = ++this.sent;
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage({
      id,
      batch: batch.map((b) => ({ sql: b.sql, params: b.params, check: b.check && { column: b.check.column, equals: b.check.equals } })),
    });
    if (Atomics.wait(this.signal, 0, 0, QUERY_TIMEOUT_MS) === 'timed-out') {
      // Its answer may still come, and would be taken for the next query's: this connection is done.
      this.broken = `PostgreSQL did not answer within ${QUERY_TIMEOUT_MS / 1000} s`;
      this.close();
      throw new PgQueryError(this.broken, undefined, undefined);
    }
    const message = receiveMessageOnPort(this.port)?.message as
      | { id: number; rows: PgRow[]; rowCount: number; error?: undefined; failedCheck?: undefined }
      | { id: number; failedCheck: { index: number; row: PgRow | undefined }; error?: undefined }
      | { id: number; error: { message: string; code?: string; detail?: string } }
      | undefined;
    if (message === undefined || message.id !== id) {
      this.broken ??= 'the connection answered out of turn';
      this.close();
      throw new PgQueryError(this.broken, undefined, undefined);
    }
    if (batch.some((b) => b.sql === 'BEGIN')) this.begun = true;
    if (message.error) throw new PgQueryError(message.error.message, message.error.code, message.error.detail);
    if (message.failedCheck) throw batch[message.failedCheck.index]!.check!.fail(message.failedCheck.row);
    return message as PgResult;
  }

  /**
   * Queues a statement whose answer is not needed, to go with the next query: a transaction of writes is then one
   * round trip to the server. With a check, the statements after it run only when its first row passes.
   */
  defer(sql: string, params?: readonly SqlValue[], check?: RowCheck): void {
    this.deferred.push({ sql, params, check });
  }

  /** Runs fn between BEGIN and COMMIT; ROLLBACK when it throws. Not nested: the store's transactions are not. */
  transaction<T>(fn: () => T): T {
    this.begun = false;
    this.defer('BEGIN');
    try {
      const value = fn();
      this.query('COMMIT');
      return value;
    } catch (err) {
      this.deferred = [];
      if (this.begun) {
        try {
          this.query('ROLLBACK');
        } catch {
          // the connection is gone: the server rolled back
        }
      }
      throw err;
    } finally {
      this.begun = false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
    void this.worker.terminate();
  }
}
