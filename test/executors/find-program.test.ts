import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { findProgram, isDirectory, isExecutable } from '../../src/executors/find-program.js';

// Node's statSync, counted: a PATH search asks the file system once per directory.
const stats = vi.hoisted(() => ({ paths: [] as string[] }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const statSync = ((path: string, options?: object) => {
    stats.paths.push(String(path));
    return fs.statSync(path, options);
  }) as typeof fs.statSync;
  return { ...fs, statSync, default: { ...fs, statSync } };
});

const dir = mkdtempSync(join(tmpdir(), 'flow-find-program-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const make = (path: string, mode: number) => {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), '#!/bin/sh\n', { mode });
};
make('a/tool', 0o644);
make('b/tool', 0o755);
make('c/tool/inner', 0o755); // c/tool is a directory
make('here', 0o700);

describe('findProgram: the file execvp would run', () => {
  it('takes the first PATH entry holding an executable regular file', () => {
    expect(findProgram('tool', `${join(dir, 'a')}:${join(dir, 'c')}:${join(dir, 'b')}`, dir)).toBe(join(dir, 'b', 'tool'));
    expect(findProgram('tool', join(dir, 'a'), dir)).toBeUndefined();
  });

  it('reads an empty PATH entry as the working directory, and a relative one against it, keeping them relative', () => {
    expect(findProgram('here', `/nonexistent::/usr/bin`, dir)).toBe('./here');
    expect(findProgram('tool', 'b', dir)).toBe('b/tool');
  });

  it('resolves a name with a slash against the working directory, without PATH', () => {
    expect(findProgram('./b/tool', '/usr/bin', dir)).toBe('./b/tool');
    expect(findProgram('./a/tool', join(dir, 'b'), dir)).toBeUndefined();
  });

  it('finds what a search without shortcuts finds, for PATH entries of every form, searched again and again', () => {
    // The plain search: each entry joined and resolved for each name, with a slash always, as execvp makes it.
    const plain = (file: string, path: string, cwd: string) => {
      if (file.includes('/')) return isExecutable(resolve(cwd, file)) ? file : undefined;
      if (file === '' || file === '.' || file === '..') return undefined;
      for (const entry of path.split(':')) {
        const joined = join(entry, file);
        const candidate = entry === '' || !joined.includes('/') ? `./${file}` : joined;
        if (isExecutable(resolve(cwd, candidate))) return candidate;
      }
      return undefined;
    };
    const entries = [
      '',
      '.',
      './',
      'b',
      './b/',
      'a/../b',
      'a/..',
      `${join(dir, 'b')}/`,
      join(dir, 'a'),
      `${dir}//c`,
      join(dir, 'b', 'tool'), // a file, not a directory
      '/',
      '..',
      '/nonexistent',
    ];
    const names = ['tool', 'here', 'inner', 'sh', '', '.', '..', 'none', 'c'];
    const cwds = [dir, join(dir, 'c'), join(dir, 'b'), '/'];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...entries), { maxLength: 5 }),
        fc.constantFrom(...names),
        fc.constantFrom(...cwds),
        (path, file, cwd) => {
          expect(findProgram(file, path.join(':'), cwd)).toBe(plain(file, path.join(':'), cwd));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('asks once per directory, however often PATH names it and however it is spelled', () => {
    stats.paths = [];
    const b = join(dir, 'b');
    expect(findProgram('tool', `${join(dir, 'a')}:a:${dir}/a/:${b}`, dir)).toBe(join(b, 'tool'));
    expect(stats.paths).toEqual([join(dir, 'a', 'tool'), join(b, 'tool')]);
  });

  it('finds nothing through a PATH entry that is a file, and never returns a path without a slash', () => {
    const file = join(dir, 'b', 'tool');
    expect(findProgram('tool', `${file}:${join(dir, 'b')}`, dir)).toBe(join(dir, 'b', 'tool'));
    expect(findProgram('.', `:${file}`, dir)).toBeUndefined();
    expect(findProgram('', `:${file}`, dir)).toBeUndefined();
    expect(isExecutable(join(file, 'x'))).toBe(false);
    expect(isDirectory(join(file, 'x'))).toBe(false);
    expect(findProgram('tool', '.', join(dir, 'b'))).toBe('./tool');
    expect(findProgram('tool', 'b/..', join(dir, 'b'))).toBe('./tool');
  });

  it('searches /usr/bin and /bin when there is no PATH', () => {
    expect(findProgram('sh', undefined, dir)).toMatch(/^\/(usr\/)?bin\/sh$/);
  });

  it('isDirectory tells a directory from a file or nothing', () => {
    expect(isDirectory(join(dir, 'c', 'tool'))).toBe(true);
    expect(isDirectory(join(dir, 'here'))).toBe(false);
    expect(isDirectory(join(dir, 'none'))).toBe(false);
  });
});
