import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { FileNotReadableError } from '../model/errors.js';

const GLOB_CHARS = /[*?[]/;

// Expands the file arguments: plain paths must exist; globs (for shells that did not expand them) must match something.
export async function expandFileArguments(args: readonly string[], cwd: string): Promise<string[]> {
  const files: string[] = [];
  for (const arg of args) {
    if (!GLOB_CHARS.test(arg)) {
      const info = await stat(resolve(cwd, arg)).catch(() => undefined);
      if (!info) throw new FileNotReadableError(arg, 'no such file');
      if (!info.isFile()) throw new FileNotReadableError(arg, 'not a file');
      files.push(arg);
      continue;
    }
    const matches = await expandGlob(arg, cwd);
    if (matches.length === 0) throw new FileNotReadableError(arg, 'no file matches this pattern');
    files.push(...matches);
  }
  return [...new Set(files)];
}

async function expandGlob(pattern: string, cwd: string): Promise<string[]> {
  const parts = pattern.split('/');
  const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
  const base = parts.slice(0, firstGlob).join('/') || '.';
  const regex = globToRegExp(parts.slice(firstGlob).join('/'));
  const recursive = pattern.includes('**');
  const entries = await readdir(resolve(cwd, base), { recursive, withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const rel = relative(resolve(cwd, base), join(entry.parentPath ?? (entry as { path?: string }).path ?? '', entry.name))
      .split(sep)
      .join('/');
    if (regex.test(rel)) out.push(base === '.' && !pattern.startsWith('./') ? rel : `${base}/${rel}`);
  }
  return out.sort();
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, '^')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
