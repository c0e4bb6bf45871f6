// The thread that holds the PostgreSQL connection for sync-client.ts. The engine's store is synchronous (every
// durable record is committed before the engine goes on), and `pg` is asynchronous: the caller's thread posts a
// query here and sleeps on a shared word until this thread has put the answer on the port and woken it.
// Plain CommonJS beside its caller, so that the same relative path finds it from src/ (tests) and dist/ (the build).
'use strict';
const { workerData } = require('node:worker_threads');

const { port, signal, pgPath, url, applicationName } = workerData;
// A setup that fails (a certificate file named in the URL that cannot be read, say) is every query's answer.
let client;
let ready;
let lost;
try {
  const pg = require(pgPath);
  // bigint (int8) columns hold milliseconds and row counts, all far below 2^53: numbers, as SQLite gives them.
  pg.types.setTypeParser(20, (v) => Number(v));
  client = new pg.Client({ connectionString: url, application_name: applicationName, connectionTimeoutMillis: 10_000 });
  // A connection the server ended (a restart, an admin's kill) fails the next query with this, not the process.
  client.on('error', (err) => {
    lost = err;
  });
  ready = client.connect();
  ready.catch(() => {});
} catch (err) {
  lost = err;
}

function answer(message) {
  port.postMessage(message);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

function failure(err) {
  // Connecting to every address of a name fails as an AggregateError with no message of its own.
  const inner = err && Array.isArray(err.errors) && err.errors[0];
  return {
    error: {
      message: err && err.message ? err.message : inner && inner.message ? inner.message : String((err && err.code) || err),
      code: err && err.code,
      detail: err && err.detail,
    },
  };
}

// A message is a batch: statements the caller did not wait for, then the one it waits on; the answer is the last's.
// A batch of several goes as one text of statements (one round trip, not one per statement), each statement's
// parameters written into it as literals by pg's own escaping. A statement with a check becomes a block that raises
// when its first row fails the check, which stops the rest; the row is then read again to say who holds it.
const CHECK_FAILED = 'FL001';

function literal(value) {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot send ${value} to PostgreSQL`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `ARRAY[${value.map(literal).join(', ')}]::text[]`;
  return client.escapeLiteral(String(value));
}

// $1, $2… are the only dollar signs in flow's statements: none holds a dollar-quoted string.
const inline = (sql, params) => (params ? sql.replace(/\$(\d+)/g, (_, n) => literal(params[Number(n) - 1])) : sql);

function statementText({ sql, params, check }) {
  const text = inline(sql, params);
  if (!check) return text;
  return `DO $flow$ BEGIN IF NOT EXISTS (SELECT 1 FROM (${text}) AS checked WHERE checked.${check.column} = ${literal(check.equals)})
    THEN RAISE EXCEPTION 'a check failed' USING ERRCODE = '${CHECK_FAILED}'; END IF; END $flow$`;
}

port.on('message', async ({ id, batch }) => {
  try {
    if (lost) throw lost;
    await ready;
    if (lost) throw lost;
    if (batch.length === 1 && !batch[0].check) {
      const { sql, params } = batch[0];
      const result = await client.query(params ? { text: sql, values: params } : sql);
      // A text of several statements answers an array of results: the last one's rows are what was asked.
      const last = Array.isArray(result) ? result[result.length - 1] : result;
      return answer({ id, rows: last ? last.rows : [], rowCount: last ? (last.rowCount ?? 0) : 0 });
    }
    let result;
    try {
      result = await client.query(batch.map(statementText).join(';\n'));
    } catch (err) {
      if (!err || err.code !== CHECK_FAILED) throw err;
      await client.query('ROLLBACK').catch(() => {});
      const index = batch.findIndex((b) => b.check);
      const { sql, params } = batch[index];
      const row = (await client.query({ text: sql.replace(/\s+FOR SHARE\s*$/, ''), values: params })).rows[0];
      return answer({ id, failedCheck: { index, row } });
    }
    const last = Array.isArray(result) ? result[result.length - 1] : result;
    answer({ id, rows: last ? last.rows : [], rowCount: last ? (last.rowCount ?? 0) : 0 });
  } catch (err) {
    answer({ id, ...failure(err) });
  }
});

port.once('close', () => {
  if (client) client.end().catch(() => {});
});
