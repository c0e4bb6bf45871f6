import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageExecutor } from '../../src/executors/storage.js';
import { closedPort } from '../helpers/http-server.js';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { failure } from '../helpers/step-failure.js';
import { removeStepContextDirs, stepContext } from '../helpers/step-context.js';

afterAll(removeStepContextDirs);

type Out = Record<string, unknown>;

describe('storage executor: local', () => {
  it('writes through a temporary file and a rename: a reader of the old file never sees the new bytes, and no temp file is left', async () => {
    const context = stepContext();
    const dir = join(context.cwd, 'out');
    mkdirSync(dir);
    const target = join(dir, 'result.txt');
    writeFileSync(target, 'old content');
    // A second name for the old file: an in-place write would change it too, a rename leaves it alone.
    const oldName = join(context.cwd, 'old-link');
    linkSync(target, oldName);
    const inodeBefore = statSync(target).ino;

    const out = (await storageExecutor.execute({ storage_type: 'local', path: 'out/result.txt', content: 'new content' }, context)) as Out;

    expect(readFileSync(target, 'utf8')).toBe('new content');
    expect(readFileSync(oldName, 'utf8')).toBe('old content');
    expect(statSync(target).ino).not.toBe(inodeBefore);
    expect(readdirSync(dir)).toEqual(['result.txt']);
    expect(out).toEqual({ uri: pathToFileURL(target).href, bytes: Buffer.byteLength('new content') });
  });

  it('creates missing directories and resolves a relative path against cwd', async () => {
    const context = stepContext();
    await storageExecutor.execute({ storage_type: 'local', path: 'a/b/c/file.txt', content: 'deep' }, context);
    expect(readFileSync(join(context.cwd, 'a/b/c/file.txt'), 'utf8')).toBe('deep');
    expect(readdirSync(join(context.cwd, 'a/b/c'))).toEqual(['file.txt']);
  });

  it('text content is stored verbatim (no newline added, no JSON quoting)', async () => {
    const context = stepContext();
    const text = 'line 1\n  "quoted" line 2\ttab\u00e9';
    const out = (await storageExecutor.execute({ storage_type: 'local', path: 'note.txt', content: text }, context)) as Out;
    expect(readFileSync(join(context.cwd, 'note.txt'), 'utf8')).toBe(text);
    expect(out['bytes']).toBe(Buffer.byteLength(text));
  });

  it('object content is stored as indented JSON with a final newline', async () => {
    const context = stepContext();
    await storageExecutor.execute({ storage_type: 'local', path: 'data.json', content: { a: 1, list: [true, null] } }, context);
    expect(readFileSync(join(context.cwd, 'data.json'), 'utf8')).toBe('{\n  "a": 1,\n  "list": [\n    true,\n    null\n  ]\n}\n');
  });

  it('a write without `content` stores context.previous as JSON', async () => {
    const previous = { category: 'invoice', score: 0.93, pages: ['p1'] };
    const context = stepContext({ previous });
    await storageExecutor.execute({ storage_type: 'local', path: 'prev.json' }, context);
    const text = readFileSync(join(context.cwd, 'prev.json'), 'utf8');
    expect(JSON.parse(text)).toEqual(previous);
    expect(text).toBe(`${JSON.stringify(previous, null, 2)}\n`);
  });

  it('`content` present but null is stored as null, not replaced by previous', async () => {
    const context = stepContext({ previous: { not: 'this' } });
    await storageExecutor.execute({ storage_type: 'local', path: 'null.json', content: null }, context);
    expect(readFileSync(join(context.cwd, 'null.json'), 'utf8')).toBe('null\n');
  });

  it('read returns content, json, bytes and uri', async () => {
    const context = stepContext();
    writeFileSync(join(context.cwd, 'in.json'), '{"k": [1, 2]}');
    const out = (await storageExecutor.execute({ storage_type: 'local', operation: 'read', path: 'in.json' }, context)) as Out;
    expect(out).toEqual({
      uri: pathToFileURL(join(context.cwd, 'in.json')).href,
      bytes: 13,
      content: '{"k": [1, 2]}',
      json: { k: [1, 2] },
    });
  });

  it('read of text (or of text that only looks like JSON) has no json key', async () => {
    const context = stepContext();
    writeFileSync(join(context.cwd, 'plain.txt'), 'hello');
    writeFileSync(join(context.cwd, 'broken.json'), '{ nope');
    const plain = (await storageExecutor.execute({ storage_type: 'local', operation: 'read', path: 'plain.txt' }, context)) as Out;
    const broken = (await storageExecutor.execute({ storage_type: 'local', operation: 'read', path: 'broken.json' }, context)) as Out;
    expect(plain['content']).toBe('hello');
    expect(plain).not.toHaveProperty('json');
    expect(broken['content']).toBe('{ nope');
    expect(broken).not.toHaveProperty('json');
  });

  it('a write then a read round-trips the previous output', async () => {
    const previous = [{ id: 1 }, { id: 2 }];
    const context = stepContext({ previous });
    await storageExecutor.execute({ storage_type: 'local', path: 'rt.json' }, context);
    const out = (await storageExecutor.execute({ storage_type: 'local', operation: 'read', path: 'rt.json' }, context)) as Out;
    expect(out['json']).toEqual(previous);
  });

  it('reading a missing file throws StepFailure naming the file', async () => {
    const context = stepContext();
    const err = await failure(storageExecutor.execute({ storage_type: 'local', operation: 'read', path: 'missing.txt' }, context));
    expect(err.errorClass).toBe('error');
    expect(err.message).toContain(join(context.cwd, 'missing.txt'));
    expect(err.message).toContain('ENOENT');
  });
});

describe('storage executor: s3 against an S3-compatible server on 127.0.0.1', () => {
  const BUCKET = 'processed-documents';
  const ACCESS_KEY = 'AKIAFLOWTEST0001';
  let s3: TestS3Server;
  let saved: Record<string, string | undefined>;
  const s3Config = () => ({ storage_type: 's3', bucket: BUCKET, endpoint: s3.endpoint, force_path_style: true, region: 'us-east-1' });

  beforeAll(async () => {
    const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'];
    saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
    for (const n of names) delete process.env[n];
    process.env['AWS_ACCESS_KEY_ID'] = ACCESS_KEY;
    process.env['AWS_SECRET_ACCESS_KEY'] = 'flow-test-secret';
    s3 = await startS3Server();
    const admin = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' });
    await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
    admin.destroy();
  });

  afterAll(async () => {
    await s3?.close();
    for (const [n, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  });

  it('a write puts the bytes on the server, signed with the credentials from the environment', async () => {
    const content = { category: 'invoice', total: 12.5 };
    const out = (await storageExecutor.execute({ ...s3Config(), key: 'docs/a b+c.json', content }, stepContext())) as Out;
    const expected = `${JSON.stringify(content, null, 2)}\n`;
    expect(out).toEqual({ uri: `s3://${BUCKET}/docs/a b+c.json`, bytes: Buffer.byteLength(expected) });

    const stored = s3.object(BUCKET, 'docs/a b+c.json');
    expect(stored?.body.toString('utf8')).toBe(expected);
    expect(stored?.contentType).toBe('application/json');
    const put = s3.requests.find((r) => r.method === 'PUT' && r.key === 'docs/a b+c.json');
    expect(put?.headers['authorization']).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/\\d{8}/us-east-1/s3/aws4_request`),
    );
    // The payload hash the client signed is the hash of the bytes the server stored.
    expect(put?.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(expected).digest('hex'));
  });

  it('text content is put verbatim with a text content type; content_type overrides it', async () => {
    await storageExecutor.execute({ ...s3Config(), key: 'notes/plain.txt', content: 'just text\n' }, stepContext());
    await storageExecutor.execute(
      { ...s3Config(), key: 'notes/page.html', content: '<p>hi</p>', content_type: 'text/html' },
      stepContext(),
    );
    expect(s3.object(BUCKET, 'notes/plain.txt')?.body.toString('utf8')).toBe('just text\n');
    expect(s3.object(BUCKET, 'notes/plain.txt')?.contentType).toBe('text/plain; charset=utf-8');
    expect(s3.object(BUCKET, 'notes/page.html')?.contentType).toBe('text/html');
  });

  it('a write then a read returns the content and parsed json', async () => {
    const content = { pages: ['one', 'two'], n: 2 };
    await storageExecutor.execute({ ...s3Config(), key: 'round/trip.json', content }, stepContext());
    const out = (await storageExecutor.execute({ ...s3Config(), operation: 'read', key: 'round/trip.json' }, stepContext())) as Out;
    expect(out['uri']).toBe(`s3://${BUCKET}/round/trip.json`);
    expect(out['json']).toEqual(content);
    expect(out['content']).toBe(`${JSON.stringify(content, null, 2)}\n`);
    expect(out['bytes']).toBe(Buffer.byteLength(out['content'] as string));
  });

  it('reads back an object that was put by someone else, byte for byte', async () => {
    s3.buckets.get(BUCKET)!.set('external/utf8.txt', {
      body: Buffer.from('h\u00e9llo \u{1f600}'),
      contentType: 'text/plain',
      etag: '"x"',
      lastModified: new Date(),
      checksums: {},
    });
    const out = (await storageExecutor.execute({ ...s3Config(), operation: 'read', key: 'external/utf8.txt' }, stepContext())) as Out;
    expect(out['content']).toBe('h\u00e9llo \u{1f600}');
    expect(out['bytes']).toBe(Buffer.byteLength('h\u00e9llo \u{1f600}'));
    expect(out).not.toHaveProperty('json');
  });

  it('without a key, writes to <runId>/<stepId>.json (and -<item> inside for_each)', async () => {
    await storageExecutor.execute({ ...s3Config(), content: 'whole step' }, stepContext({ runId: 'run_abc', stepId: 'store_result' }));
    await storageExecutor.execute({ ...s3Config(), content: 'item 3' }, stepContext({ runId: 'run_abc', stepId: 'store_result', item: 3 }));
    expect(s3.object(BUCKET, 'run_abc/store_result.json')?.body.toString('utf8')).toBe('whole step');
    expect(s3.object(BUCKET, 'run_abc/store_result-3.json')?.body.toString('utf8')).toBe('item 3');
    const out = (await storageExecutor.execute(
      { ...s3Config(), operation: 'read' },
      stepContext({ runId: 'run_abc', stepId: 'store_result' }),
    )) as Out;
    expect(out['content']).toBe('whole step');
  });

  it('a write with no content stores previous as JSON', async () => {
    const previous = { category: 'letter', confidence: 0.8 };
    const out = (await storageExecutor.execute({ ...s3Config() }, stepContext({ runId: 'run_prev', stepId: 'store', previous }))) as Out;
    expect(out['uri']).toBe(`s3://${BUCKET}/run_prev/store.json`);
    const stored = s3.object(BUCKET, 'run_prev/store.json');
    expect(JSON.parse(stored!.body.toString('utf8'))).toEqual(previous);
    expect(stored?.contentType).toBe('application/json');
  });

  it('reading a missing key throws StepFailure http:404', async () => {
    const err = await failure(storageExecutor.execute({ ...s3Config(), operation: 'read', key: 'no/such/key.json' }, stepContext()));
    expect(err.errorClass).toBe('http:404');
    expect(err.message).toContain(`s3://${BUCKET}/no/such/key.json`);
    expect(err.message).toContain('NoSuchKey');
    expect(s3.requests.some((r) => r.method === 'GET' && r.key === 'no/such/key.json')).toBe(true);
  });

  it('writing to a bucket that does not exist throws StepFailure http:404', async () => {
    const err = await failure(storageExecutor.execute({ ...s3Config(), bucket: 'no-such-bucket', key: 'k', content: 'x' }, stepContext()));
    expect(err.errorClass).toBe('http:404');
    expect(err.message).toContain('NoSuchBucket');
  });

  it('an endpoint nobody listens on is errorClass network', async () => {
    const port = await closedPort();
    const err = await failure(
      storageExecutor.execute({ ...s3Config(), endpoint: `http://127.0.0.1:${port}`, key: 'k', content: 'x' }, stepContext()),
    );
    expect(err.errorClass).toBe('network');
  });
});
