import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowAsync } from '../helpers/cli.js';
import { createBucket, S3_TEST_ENV, startS3Server, type TestS3Server } from '../helpers/s3-server.js';

const credentials = S3_TEST_ENV;
let s3: TestS3Server;

beforeAll(async () => {
  s3 = await startS3Server();
  await createBucket(s3, 'reports');
});
afterAll(() => s3?.close());

// The concept document's storage step end to end: flow run writes the previous output to S3 and reads it back.
describe('flow run with S3 storage', () => {
  it('stores the previous output under <run id>/<step id>.json, and reads it through AWS_ENDPOINT_URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flow-s3-'));
    writeFileSync(
      join(dir, 'w.yaml'),
      'inputs:\n  endpoint: { type: string }\nsteps:\n' +
        '  - { id: make, type: transform, config: { value: { total: 12.5 } } }\n' +
        '  - { id: put, type: storage, config: { storage_type: s3, bucket: reports, endpoint: "${{ inputs.endpoint }}", force_path_style: true } }\n' +
        '  - { id: get, type: storage, config: { storage_type: s3, operation: read, bucket: reports, key: "${{ run.id }}/put.json", force_path_style: true } }\n' +
        'outputs: { total: "${{ steps.get.output.json.total }}", uri: "${{ steps.put.output.uri }}" }\n',
    );
    const r = await flowAsync(['run', 'w.yaml', '--input', `endpoint=${s3.endpoint}`], dir, {
      ...credentials,
      AWS_ENDPOINT_URL: s3.endpoint,
    });
    expect(r.stderr).not.toContain('internal error');
    expect(r.code).toBe(0);
    const runId = /run (\w+) started/.exec(r.stderr)![1]!;
    expect(JSON.parse(r.stdout)).toEqual({ total: 12.5, uri: `s3://reports/${runId}/put.json` });
    expect(JSON.parse(s3.object('reports', `${runId}/put.json`)!.body.toString('utf8'))).toEqual({ total: 12.5 });
  });
});
