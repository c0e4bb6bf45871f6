import { GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { StepFailure } from '../engine/step-failure.js';
import type { StepContext } from './executor.js';
import { decode } from './storage.js';

// The S3 side of the storage step: any S3-compatible endpoint, credentials from the SDK's own environment.
function client(config: Record<string, unknown>): S3Client {
  const options: S3ClientConfig = {};
  if (typeof config['endpoint'] === 'string') options.endpoint = config['endpoint'];
  if (typeof config['region'] === 'string') options.region = config['region'];
  else if (!process.env['AWS_REGION'] && !process.env['AWS_DEFAULT_REGION']) options.region = 'us-east-1';
  // S3-compatible servers (MinIO, Ceph, a test server) serve buckets by path, where a bucket's own host name does not
  // resolve: with an endpoint of its own, path style is the default.
  const ownEndpoint = options.endpoint ?? process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['AWS_ENDPOINT_URL'];
  if (typeof config['force_path_style'] === 'boolean') options.forcePathStyle = config['force_path_style'];
  else if (ownEndpoint) options.forcePathStyle = true;
  return new S3Client(options);
}

export async function writeS3Object(
  config: Record<string, unknown>,
  key: string,
  body: Buffer,
  contentType: string,
  context: StepContext,
): Promise<Record<string, unknown>> {
  const bucket = String(config['bucket']);
  const s3 = client(config);
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }), {
      abortSignal: context.signal,
    });
  } catch (err) {
    throw s3Failure(err, `put s3://${bucket}/${key}`);
  } finally {
    s3.destroy();
  }
  return { uri: `s3://${bucket}/${key}`, bytes: body.byteLength };
}

export async function readS3Object(config: Record<string, unknown>, key: string, context: StepContext): Promise<Record<string, unknown>> {
  const bucket = String(config['bucket']);
  const s3 = client(config);
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: context.signal });
    const text = (await response.Body?.transformToString('utf8')) ?? '';
    return { uri: `s3://${bucket}/${key}`, bytes: Buffer.byteLength(text), ...decode(text) };
  } catch (err) {
    throw s3Failure(err, `get s3://${bucket}/${key}`);
  } finally {
    s3.destroy();
  }
}

function s3Failure(err: unknown, what: string): StepFailure {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const status = e.$metadata?.httpStatusCode;
  if (status) return new StepFailure(`http:${status}`, `${what} failed: ${e.name ?? ''} ${e.message ?? ''}`.trim());
  return new StepFailure('network', `${what} failed: ${e.code ?? e.message ?? String(err)}`);
}
