import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { flow, flowAsync } from './helpers/cli.js';

const examples = join(import.meta.dirname, '..', 'workflows');
const fresh = () => mkdtempSync(join(tmpdir(), 'flow-examples-'));

// The examples in workflows/ run offline, as a user would run them.
describe('the examples in workflows/', () => {
  it('files.yaml checks its inputs first, naming a missing one', () => {
    const r = flow(['run', join(examples, 'files.yaml'), '--input', 'title='], fresh());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("step 'check_inputs': missing required input: title");
  });

  it('files.yaml writes, stores previous, and reads back', () => {
    const dir = fresh();
    const r = flow(['run', join(examples, 'files.yaml')], dir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ summary_bytes: 21, items: ['alpha', 'beta', 'gamma'] });
    const runId = /run (\w+) started/.exec(r.stderr)![1]!;
    expect(JSON.parse(readFileSync(join(dir, 'out', runId, 'facts.json'), 'utf8'))).toMatchObject({ title: 'Daily report', run: runId });
    expect(readFileSync(join(dir, 'out', runId, 'summary.txt'), 'utf8')).toBe('Daily report: 3 items');
  });

  it('composition.yaml runs sub-workflows per item, a custom step, a fallback and finally', () => {
    const r = flow(['run', join(examples, 'composition.yaml')], fresh());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ squares: [4, 9, 16], words: 9, source: 'cache' });
    expect(r.stderr).toMatch(/\[flaky_source\] succeeded .*recovered by fallback 'cached_source'/);
    expect(r.stderr).toMatch(/\[tidy\] \| done with \w+/);
  });

  it('http-retry.yaml retries a 503 with Retry-After, then counts the items', async () => {
    let calls = 0;
    const server = createServer((_req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(503, { 'retry-after': '0' }).end('busy');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [1, 2, 3, 4] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const dir = fresh();
      const r = await flowAsync(['run', join(examples, 'http-retry.yaml'), '--input', `url=http://127.0.0.1:${port}/items`], dir);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ count: 4 });
      expect(r.stderr).toMatch(/\[fetch\] attempt 1 failed \(http:503/);
      expect(calls).toBe(2);
      expect(existsSync(join(dir, '.flow', 'state.db'))).toBe(true);
    } finally {
      server.close();
    }
  });

  it('checks.yaml fails as it says: a tolerated failure, one retry, a failing item; its JUnit report is valid', () => {
    const dir = fresh();
    const r = flow(['run', join(examples, 'checks.yaml'), '--junit', 'report.xml', '--json'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[unit\] failed in \d+ms: exit:1/);
    expect(r.stderr).toMatch(/\[fetch\] attempt 1 failed \(exit:7/);
    expect(r.stderr).toMatch(/\[pages\[2\]\] failed in \d+ms: exit:2/);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ type: 'run-finished', status: 'failed' });
    const xmllint = spawnSync('xmllint', ['--noout', '--schema', join(import.meta.dirname, 'fixtures', 'junit-4.xsd'), 'report.xml'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(xmllint.status, xmllint.stderr).toBe(0);
    const report = readFileSync(join(dir, 'report.xml'), 'utf8');
    for (const name of ['install', 'lint', 'unit', 'fetch', 'pages[0]', 'pages[2]']) expect(report).toContain(`name="${name}"`);
  });
});
