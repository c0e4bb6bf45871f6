import { type Stats, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

// execvp's default when the environment has no PATH.
const DEFAULT_PATH = '/usr/bin:/bin';

/**
 * The path execvp would hand to exec for `file`, found as it finds it: a name with a slash as it is, a bare name
 * in each `PATH` entry (an empty entry is the working directory). Relative paths are relative to `cwd`, where the
 * program starts; they stay relative, as execvp leaves them, because a script sees that path as its $0.
 * Undefined when there is none. Found once here, the program is started by path: a step that cannot start is
 * told apart from a program that exits with 127, and the launcher does not search PATH again.
 */
export function findProgram(file: string, path: string | undefined, cwd: string): string | undefined {
  if (file.includes('/')) return isExecutable(resolve(cwd, file)) ? file : undefined;
  // No name, the directory itself or its parent: never a file, as execvp finds (join() would make them the entry).
  if (file === '' || file === '.' || file === '..') return undefined;
  for (const [relative, absolute] of entriesOf(path ?? DEFAULT_PATH, cwd)) {
    if (isExecutable(absolute + file)) return relative + file;
  }
  return undefined;
}

// The last PATH searched, each entry as the prefix of a candidate (as the step names it, and from `cwd`): a run's
// steps search the same PATH from the same directory thousands of times, and only the file system need be asked again.
// An entry that names a directory an earlier one named is left out: it can find nothing the earlier did not.
let searched: { path: string; cwd: string; entries: [relative: string, absolute: string][] } | undefined;

function entriesOf(path: string, cwd: string): [relative: string, absolute: string][] {
  if (searched?.path === path && searched.cwd === cwd) return searched.entries;
  const entries = new Map<string, string>();
  for (const dir of path.split(delimiter)) {
    // Always with a slash, so that exec takes it as a path and searches nothing; normalized as join() does it. A
    // name without a slash (not '', . or ..: those find nothing) is appended exactly as join() and resolve() append it.
    const joined = join(dir, '_');
    const candidate = dir === '' || !joined.includes('/') ? './_' : joined;
    const absolute = resolve(cwd, candidate).slice(0, -1);
    if (!entries.has(absolute)) entries.set(absolute, candidate.slice(0, -1));
  }
  searched = { path, cwd, entries: [...entries].map(([absolute, relative]) => [relative, absolute]) };
  return searched.entries;
}

/** A regular file with an execute bit: what exec accepts, short of permission checks for this user. */
export function isExecutable(file: string): boolean {
  const stats = statOf(file);
  return stats !== undefined && stats.isFile() && (stats.mode & 0o111) !== 0;
}

/** Whether `dir` is a directory a process can be started in. */
export function isDirectory(dir: string): boolean {
  return statOf(dir)?.isDirectory() ?? false;
}

// Undefined where there is nothing to start: no such file, and also a path through a file (ENOTDIR, as for a PATH
// entry that is a file), a loop of links or a directory this user cannot search, which execvp passes over as well.
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
