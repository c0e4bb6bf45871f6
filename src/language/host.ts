import type { ErrorObject } from 'ajv';

// The file system and module loader that validation needs, behind one small interface so tests can run it in memory.
export interface ValidationHost {
  /** True when `path` is an existing regular file. */
  isFile(path: string): Promise<boolean>;
  readFile(path: string): Promise<Uint8Array>;
  importModule(path: string): Promise<Record<string, unknown>>;
  /** Compiles a JSON Schema from a custom executor (its validator lists every error). */
  compileSchema(schema: object): Promise<(data: unknown) => ErrorObject[]>;
}
