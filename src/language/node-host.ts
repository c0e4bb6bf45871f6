import { readFile, stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { importModule } from '../model/import-module.js';
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
  importModule: (path) => importModule(pathToFileURL(path).href),
  async compileSchema(schema) {
    // ajv is CommonJS: its class is the default export once bundled, a named one under vitest.
    const mod = (await import('ajv/dist/2020.js')) as unknown as {
      default?: typeof import('ajv/dist/2020.js').Ajv2020;
      Ajv2020?: typeof import('ajv/dist/2020.js').Ajv2020;
    };
    const Ajv = mod.Ajv2020 ?? mod.default!;
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
    const validate = ajv.compile(schema);
    return (data) => (validate(data) ? [] : [...(validate.errors ?? [])]);
  },
};
