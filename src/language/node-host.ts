import { readFile, stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { ValidationHost } from './host.js';

// The real host: node's file system, dynamic import, and ajv's compiler loaded only when a custom schema needs it.
export const nodeHost: ValidationHost = {
  async isFile(path) {
    try {
      return (await stat(path)).isFile();
    } catch {
      return false;
    }
  },
  readFile: (path) => readFile(path),
  importModule: (path) => import(pathToFileURL(path).href) as Promise<Record<string, unknown>>,
  async compileSchema(schema) {
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false });
    const validate = ajv.compile(schema);
    return (data) => (validate(data) ? [] : [...(validate.errors ?? [])]);
  },
};
