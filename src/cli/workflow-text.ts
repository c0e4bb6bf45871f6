import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FileNotReadableError } from '../model/errors.js';
import type { CommandIO } from './io.js';

/** A workflow file's text and absolute path, not yet validated. */
export async function readWorkflowText(file: string, io: CommandIO): Promise<{ text: string; path: string }> {
  const path = resolve(io.cwd, file);
  try {
    return { text: await readFile(path, 'utf8'), path };
  } catch (err) {
    throw new FileNotReadableError(file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message);
  }
}
