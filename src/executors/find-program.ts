import { statSync } from 'node:fs';
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
  for (const dir of (path ?? DEFAULT_PATH).split(delimiter)) {
    // Always with a slash, so that exec takes it as a path and searches nothing.
    const candidate = dir === '' ? `./${file}` : join(dir, file);
    if (isExecutable(resolve(cwd, candidate))) return candidate;
  }
  return undefined;
}

/** A regular file with an execute bit: what exec accepts, short of permission checks for this user. */
export function isExecutable(file: string): boolean {
  const stats = statSync(file, { throwIfNoEntry: false });
  return stats !== undefined && stats.isFile() && (stats.mode & 0o111) !== 0;
}

/** Whether `dir` is a directory a process can be started in. */
export function isDirectory(dir: string): boolean {
  return statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
