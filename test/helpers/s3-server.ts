import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A small S3-compatible server for tests: path-style CreateBucket, PutObject, GetObject and HeadObject,
// objects in memory, spoken in the S3 REST wire format (XML errors, ETags, aws-chunked uploads), so
// the real AWS SDK client talks to it unchanged. Signatures are recorded, not verified.

export interface StoredObject {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
  /** x-amz-checksum-* values the client sent, returned on GET as S3 does. */
  checksums: Record<string, string>;
}

export interface S3Request {
  method: string;
  /** The raw path and query. */
  url: string;
  bucket: string | undefined;
  key: string | undefined;
  headers: IncomingHttpHeaders;
  /** The payload after aws-chunked decoding: the object's bytes on a PutObject. */
  body: Buffer;
}

export interface TestS3Server {
  /** http://127.0.0.1:PORT: the `endpoint` for a path-style client. */
  endpoint: string;
  requests: S3Request[];
  buckets: Map<string, Map<string, StoredObject>>;
  /** The stored object, or undefined. */
  object(bucket: string, key: string): StoredObject | undefined;
  close(): Promise<void>;
}

/** Credentials a test gives flow (as its environment) and its own client; the server checks none of them. */
export const S3_TEST_ENV = { AWS_ACCESS_KEY_ID: 'AKIAFLOWE2E', AWS_SECRET_ACCESS_KEY: 'flow-e2e-secret', AWS_REGION: 'us-east-1' };

/** Creates a bucket through the real AWS SDK, as an operator would before a run. */
export async function createBucket(server: TestS3Server, bucket: string): Promise<void> {
  const { CreateBucketCommand, S3Client } = await import('@aws-sdk/client-s3');
  const admin = new S3Client({
    endpoint: server.endpoint,
    forcePathStyle: true,
    region: S3_TEST_ENV.AWS_REGION,
    credentials: { accessKeyId: S3_TEST_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: S3_TEST_ENV.AWS_SECRET_ACCESS_KEY },
  });
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  admin.destroy();
}

export async function startS3Server(): Promise<TestS3Server> {
  const buckets = new Map<string, Map<string, StoredObject>>();
  const requests: S3Request[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks));
      } catch (err) {
        sendError(res, 500, 'InternalError', (err as Error).message, req.url ?? '/');
      }
    });
  });

  function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): undefined {
    const url = new URL(req.url ?? '/', 'http://s3.test');
    const [bucketPart, ...keyParts] = url.pathname.slice(1).split('/');
    const bucket = bucketPart ? decodeURIComponent(bucketPart) : undefined;
    const key = keyParts.length > 0 && keyParts.join('/') !== '' ? keyParts.map(decodeURIComponent).join('/') : undefined;
    const { payload, trailers } = isAwsChunked(req.headers) ? decodeAwsChunked(raw) : { payload: raw, trailers: {} };
    const method = req.method ?? 'GET';
    requests.push({ method, url: req.url ?? '/', bucket, key, headers: req.headers, body: payload });
    const resource = url.pathname;

    if (bucket === undefined) return sendError(res, 501, 'NotImplemented', 'ListBuckets is not implemented by this test server', resource);

    if (key === undefined) {
      if (method === 'PUT') {
        if (buckets.has(bucket))
          return sendError(
            res,
            409,
            'BucketAlreadyOwnedByYou',
            'Your previous request to create the named bucket succeeded and you already own it.',
            resource,
          );
        buckets.set(bucket, new Map());
        res.writeHead(200, { location: `/${bucket}`, 'x-amz-request-id': requestId(), 'content-length': '0' });
        return void res.end();
      }
      return sendError(res, 501, 'NotImplemented', `${method} on a bucket is not implemented by this test server`, resource);
    }

    const objects = buckets.get(bucket);
    if (!objects) return sendError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', resource, method === 'HEAD');

    if (method === 'PUT') {
      if (req.headers['x-amz-copy-source'])
        return sendError(res, 501, 'NotImplemented', 'CopyObject is not implemented by this test server', resource);
      const checksums: Record<string, string> = {};
      for (const [name, value] of Object.entries({ ...req.headers, ...trailers })) {
        if (name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-algorithm' && typeof value === 'string') checksums[name] = value;
      }
      const etag = `"${createHash('md5').update(payload).digest('hex')}"`;
      objects.set(key, {
        body: payload,
        contentType: header(req.headers, 'content-type') ?? 'binary/octet-stream',
        etag,
        lastModified: new Date(),
        checksums,
      });
      res.writeHead(200, { etag, 'x-amz-request-id': requestId(), 'content-length': '0', ...checksums });
      return void res.end();
    }

    if (method === 'GET' || method === 'HEAD') {
      const object = objects.get(key);
      if (!object)
        return sendError(
          res,
          404,
          'NoSuchKey',
          'The specified key does not exist.',
          resource,
          method === 'HEAD',
          `<Key>${xmlEscape(key)}</Key>`,
        );
      const checksumMode = header(req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
      res.writeHead(200, {
        'content-type': object.contentType,
        'content-length': String(object.body.byteLength),
        etag: object.etag,
        'last-modified': object.lastModified.toUTCString(),
        'accept-ranges': 'bytes',
        'x-amz-request-id': requestId(),
        ...(checksumMode ? object.checksums : {}),
      });
      return void res.end(method === 'HEAD' ? undefined : object.body);
    }

    return sendError(res, 501, 'NotImplemented', `${method} on an object is not implemented by this test server`, resource);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    buckets,
    object: (bucket, key) => buckets.get(bucket)?.get(key),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function requestId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  resource: string,
  headOnly = false,
  extra = '',
): undefined {
  const id = requestId();
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${extra}<Resource>${xmlEscape(resource)}</Resource><RequestId>${id}</RequestId></Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'x-amz-request-id': id,
    ...(headOnly ? {} : { 'content-length': String(Buffer.byteLength(xml)) }),
  });
  res.end(headOnly ? undefined : xml);
}

function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  const encoding = header(headers, 'content-encoding') ?? '';
  const sha = header(headers, 'x-amz-content-sha256') ?? '';
  return encoding.split(',').some((e) => e.trim() === 'aws-chunked') || sha.startsWith('STREAMING-');
}

/** The aws-chunked upload encoding: `hex-size[;chunk-signature=..]\r\n<data>\r\n` ... `0\r\n`, then trailer lines. */
function decodeAwsChunked(raw: Buffer): { payload: Buffer; trailers: Record<string, string> } {
  const parts: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) throw new Error('aws-chunked: truncated chunk header');
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size)) throw new Error('aws-chunked: bad chunk size');
    at = lineEnd + 2;
    if (size === 0) break;
    parts.push(raw.subarray(at, at + size));
    at += size + 2;
  }
  for (const line of raw.subarray(at).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { payload: Buffer.concat(parts), trailers };
}
