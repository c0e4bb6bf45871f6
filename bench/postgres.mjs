// Benchmark: `flow runs` over 10,000 recorded runs kept in PostgreSQL (a throwaway server, as the tests start one),
// beside the same runs in a state file. The formal target: `flow runs` on PostgreSQL within 300 ms (p90, the whole
// command: start-up, connection, query).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { copyBuild } from './lib/build-copy.mjs';
import { buildHistory } from './lib/history-gen.mjs';
import { alternate, percentile } from './lib/measure.mjs';
import { p90Table } from './lib/report.mjs';
import { loadServerHelper } from './lib/test-servers.mjs';

export const name = 'postgres';
export const title = 'flow runs over 10,000 runs in PostgreSQL';

const RUNS = 10_000;
const TARGET_MS = 300;
const TABLES = ['runs', 'steps', 'attempts', 'logs', 'events', 'workflow_models', 'cache'];

// Copies every row of the state file into the PostgreSQL schema flow made (its columns are the file's).
async function copyRows(file, url) {
  const db = new Database(file, { readonly: true });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SET search_path TO flow');
    for (const table of TABLES) {
      const wanted = (
        await client.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'flow' AND table_name = $1`, [table])
      ).rows.map((r) => r.column_name);
      const columns = db
        .prepare(`SELECT name FROM pragma_table_info(?)`)
        .all(table)
        .map((r) => r.name)
        .filter((c) => wanted.includes(c));
      const rows = db
        .prepare(`SELECT ${columns.join(', ')} FROM ${table}`)
        .raw(true)
        .all();
      const identity = table === 'events' ? ' OVERRIDING SYSTEM VALUE' : '';
      for (let i = 0; i < rows.length; i += 500) {
        const batch = rows.slice(i, i + 500);
        const values = batch.map((row, r) => `(${row.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
        await client.query(`INSERT INTO ${table} (${columns.join(', ')})${identity} VALUES ${values}`, batch.flat());
      }
    }
    await client.query('ANALYZE');
    const top = Number((await client.query('SELECT count(*) AS n FROM runs WHERE parent_run_id IS NULL')).rows[0].n);
    // A listing of an empty store is fast too: the subject must hold what the state file holds.
    if (top !== RUNS) throw new Error(`PostgreSQL holds ${top} top-level runs after the copy, not ${RUNS}`);
  } finally {
    await client.end();
    db.close();
  }
}

export async function run({ root: checkout, quick, log }) {
  const runs = quick ? 8 : 25;
  const dir = mkdtempSync(join(tmpdir(), 'flow-bench-postgres-'));
  const { startPostgres } = await loadServerHelper(checkout, 'postgres');
  const server = await startPostgres();
  try {
    const root = join(dir, 'build');
    const stamp = copyBuild(checkout, root, log);
    const file = join(dir, 'history.db');
    log(`postgres: a state file of ${RUNS.toLocaleString('en')} recorded runs, copied into PostgreSQL...`);
    await buildHistory(root, file, { count: RUNS });
    const flow = join(root, 'bin', 'flow.js');
    const migrated = (await import('node:child_process')).spawnSync(process.execPath, [flow, 'state', 'migrate', '--state', server.url], {
      encoding: 'utf8',
    });
    if (migrated.status !== 0) throw new Error(`flow state migrate: ${migrated.stderr}`);
    await copyRows(file, server.url);
    const command = (state) => ({ cmd: process.execPath, args: [flow, 'runs', '--state', state], cwd: dir });
    log(`postgres: flow runs, ${runs} runs each, the state file and PostgreSQL alternating...`);
    const samples = alternate(command(file), command(server.url), { runs, log });
    const rows = [
      row('flow runs (20 newest), PostgreSQL', samples.subject, true),
      row('flow runs (20 newest), the state file', samples.baseline, false),
    ];
    return { rows, notes: notes(rows, runs, stamp) };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function row(label, times, formal) {
  return {
    benchmark: name,
    case: label,
    subjectMedian: percentile(times, 50),
    subjectP90: percentile(times, 90),
    target: formal ? `≤ ${TARGET_MS} ms` : 'info',
    result: formal ? (percentile(times, 90) <= TARGET_MS ? 'PASS' : 'FAIL') : 'info',
    formal,
  };
}

function notes(rows, runs, stamp) {
  return [
    `A copy of dist/ (cli.cjs of ${stamp}) lists the newest runs of ${RUNS.toLocaleString('en')} (made by bench/lib/history-gen.mjs), kept in a`,
    'PostgreSQL 15 server of the benchmark’s own on loopback (test/helpers/postgres.ts; the rows copied from the state file into',
    `the schema \`flow state migrate\` made) and, alternating with it, in the state file. ${runs} runs of each after 3 warm-ups; the`,
    'time is the whole command, start-up and connection included. Judged on the p90.',
    '',
    p90Table(rows),
  ].join('\n');
}
