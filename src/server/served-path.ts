import { isAbsolute, relative, resolve } from 'node:path';
import { problem } from './problem.js';

/** A path the API was given, as a file under the served directory; anything outside it is refused. */
export function insideRoot(root: string, path: string): string {
  const file = resolve(root, path);
  const rel = relative(root, file);
  if (rel.startsWith('..') || isAbsolute(rel))
    throw problem(400, 'outside-root', 'Outside the root', `${path} is not under the directory flow serve serves (${root})`);
  return file;
}
