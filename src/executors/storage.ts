import { randomBytes } from '../engine/node-crypto.js';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StepFailure } from '../engine/step-failure.js';
import { strictObject } from '../language/schema/json-schema.js';
import type { Executor, StepContext } from './executor.js';

export const storageExecutor: Executor = {
  type: 'storage',
  aliases: [],
  summary: 'Writes or reads one object, locally or in any S3-compatible store; a write without content stores `previous`.',
  configRequired: true,
  configSchema: strictObject(
    {
      storage_type: { enum: ['local', 's3'] },
      operation: { enum: ['write', 'read'] },
      path: { type: 'string', minLength: 1, description: 'local: the file path.' },
      bucket: { type: 'string', minLength: 1, description: 's3: the bucket.' },
      key: { type: 'string', minLength: 1, description: 's3: the object key (default <run id>/<step id>.json).' },
      content: { description: 'What to write: any value; objects and lists are written as JSON.' },
      content_type: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      force_path_style: { type: 'boolean' },
    },
    {
      required: ['storage_type'],
      allOf: [
        { if: { properties: { storage_type: { const: 'local' } }, required: ['storage_type'] }, then: { required: ['path'] } },
        { if: { properties: { storage_type: { const: 's3' } }, required: ['storage_type'] }, then: { required: ['bucket'] } },
      ],
    },
  ),

  async execute(config, context) {
    const read = config['operation'] === 'read';
    if (config['storage_type'] === 's3') {
      const { readS3Object, writeS3Object } = await import('./storage-s3.js');
      const key =
        typeof config['key'] === 'string'
          ? config['key']
          : `${context.runId}/${context.stepId}${context.item >= 0 ? `-${context.item}` : ''}.json`;
      if (read) return readS3Object(config, key, context);
      const { body, contentType } = encode(config, context);
      return writeS3Object(config, key, body, contentType, context);
    }
    const path = resolve(context.cwd, String(config['path']));
    if (read) return readLocal(path);
    const { body } = encode(config, context);
    return writeLocal(path, body);
  },
};

/** What a write stores: `content`, or the previous step's output; text as is, anything else as JSON. */
export function encode(config: Record<string, unknown>, context: StepContext): { body: Buffer; contentType: string } {
  const content = 'content' in config ? config['content'] : context.previous;
  const isText = typeof content === 'string';
  const body = Buffer.from(isText ? content : `${JSON.stringify(content ?? null, null, 2)}\n`);
  return {
    body,
    contentType:
      typeof config['content_type'] === 'string' ? config['content_type'] : isText ? 'text/plain; charset=utf-8' : 'application/json',
  };
}

/** Parses what was read: JSON when it is JSON, text otherwise. */
export function decode(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = { content: text };
  if (/^\s*[[{]/.test(text)) {
    try {
      out['json'] = JSON.parse(text);
    } catch {
      // text that only looks like JSON
    }
  }
  return out;
}

// Written to a temporary file beside the target, then renamed: a reader never sees half a file.
async function writeLocal(path: string, body: Buffer): Promise<Record<string, unknown>> {
  await mkdir(dirname(path), { recursive: true });
  // A name of its own per write: parallel items may write the same path, and the last rename wins whole.
  const temp = join(dirname(path), `.${path.split(/[\\/]/).pop()}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, body);
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw new StepFailure('error', `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { uri: pathToFileURL(path).href, bytes: body.byteLength };
}

async function readLocal(path: string): Promise<Record<string, unknown>> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (err) {
    throw new StepFailure('error', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { uri: pathToFileURL(path).href, bytes: buffer.byteLength, ...decode(buffer.toString('utf8')) };
}
