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

port.on('message', async ({ id, sql, params }) => {
  try {
    if (lost) throw lost;
    await ready;
    if (lost) throw lost;
    const result = await client.query(params ? { text: sql, values: params } : sql);
    // A text of several statements answers an array of results: the last one's rows are what was asked.
    const last = Array.isArray(result) ? result[result.length - 1] : result;
    answer({ id, rows: last ? last.rows : [], rowCount: last ? (last.rowCount ?? 0) : 0 });
  } catch (err) {
    answer({ id, ...failure(err) });
  }
});

port.once('close', () => {
  if (client) client.end().catch(() => {});
});
