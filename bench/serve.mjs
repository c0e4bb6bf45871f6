// Benchmark: `flow serve` over a state file of 10,000 recorded runs. The formal target: the first page of
// GET /api/v1/runs within 200 ms. Requests are made over HTTP from this process to a `flow serve` child, one at a time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyBuild } from './lib/build-copy.mjs';
import { startFlowServer } from './lib/flow-server.mjs';
import { buildHistory } from './lib/history-gen.mjs';
import { percentile } from './lib/measure.mjs';
import { p90Table } from './lib/report.mjs';

export const name = 'serve';
export const title = 'flow serve over 10,000 runs';

const RUNS = 10_000;
const TARGET_MS = 200;
const TOKEN = 'bench-token-0123456789';

async function timeRequest(url) {
  const start = process.hrtime.bigint();
  const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = await res.text();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body.slice(0, 500)}`);
  return { ms, body };
}

export async function run({ root: checkout, quick, log }) {
  const samples = quick ? 15 : 60;
  const dir = mkdtempSync(join(tmpdir(), 'flow-bench-serve-'));
  try {
    const root = join(dir, 'build');
    const stamp = copyBuild(checkout, root, log);
    const state = join(dir, 'history.db');
    log(`serve: a state file of ${RUNS.toLocaleString('en')} recorded runs...`);
    await buildHistory(root, state, { count: RUNS });
    const server = await startFlowServer(root, { args: ['--state', state], token: TOKEN });
    try {
      const api = `${server.url}/api/v1`;
      // The first request after start: nothing warmed yet (the chunks of the route, SQLite's page cache).
      const cold = await timeRequest(`${api}/runs`);
      const firstId = JSON.parse(cold.body).runs[0].id;
      const cases = [
        ['GET /runs (first page, 50 runs)', `${api}/runs`, true],
        ['GET /runs?status=failed (first page)', `${api}/runs?status=failed`, false],
        ['GET /runs?text=… (a search)', `${api}/runs?text=${firstId.slice(3, 9)}`, false],
        ['GET /runs?limit=500', `${api}/runs?limit=500`, false],
        ['GET /runs/{id}', `${api}/runs/${firstId}`, false],
      ];
      const rows = [row('GET /runs, the first request after start', [cold.ms], false)];
      for (const [label, url, formal] of cases) {
        log(`serve: ${label}, ${samples} requests after 5 warm-ups...`);
        for (let i = 0; i < 5; i++) await timeRequest(url);
        const times = [];
        for (let i = 0; i < samples; i++) times.push((await timeRequest(url)).ms);
        rows.push(row(label, times, formal));
      }
      return { rows, notes: notes(rows, samples, stamp) };
    } finally {
      server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function row(label, times, formal) {
  const med = percentile(times, 50);
  return {
    benchmark: name,
    case: label,
    subjectMedian: med,
    subjectP90: percentile(times, 90),
    target: formal ? `≤ ${TARGET_MS} ms` : 'info',
    result: formal ? (percentile(times, 90) <= TARGET_MS ? 'PASS' : 'FAIL') : 'info',
    formal,
  };
}

function notes(rows, samples, stamp) {
  return [
    `A copy of dist/ (cli.cjs of ${stamp}) serves a state file of ${RUNS.toLocaleString('en')} top-level runs (3% with a child run) made by`,
    '`bench/lib/history-gen.mjs`. Each case: 5 warm-up requests, then ' +
      `${samples} timed ones, one at a time, from the benchmark process over`,
    'loopback HTTP (fetch, with the bearer token); the time is from the request to the whole body read. The formal target is the',
    'first page of GET /api/v1/runs, judged on its p90. The first row is one request, the first the server answers.',
    '',
    p90Table(rows),
  ].join('\n');
}
