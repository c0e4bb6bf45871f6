import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

// mkdirSync(dir, { recursive: true }) never returns under a directory that refuses to hold new entries without
// saying so (/proc, some FUSE mounts): it loops at full CPU. Creating one level at a time below the deepest
// existing ancestor gives the error the file system reports instead.
export function makeDirectory(dir: string, mode?: number): void {
  if (existsSync(dir)) {
    if (statSync(dir).isDirectory()) return;
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR' });
  }
  const missing: string[] = [];
  for (let at = dir; !existsSync(at); at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level, mode === undefined ? {} : { mode });
    } catch (err) {
      // another process made it meanwhile
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
