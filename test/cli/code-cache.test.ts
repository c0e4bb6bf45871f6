import { spawn, spawnSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CachedBundleLoader, codeCacheDir } from '../../src/cli/code-cache.js';
import { setV8Flags, v8FlagsChanged } from '../../src/model/v8-flags.js';
import { FLOW_BIN, flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';

// Bundle files as the build writes them: CommonJS, requiring each other by ./name and Node's modules by name.
function bundle(): string {
  const dir = tempDir('flow-bundle-');
  writeFileSync(
    join(dir, 'main.cjs'),
    [
      'const other = require("./other.cjs");',
      'const { basename } = require("node:path");',
      'exports.name = basename(__filename);',
      'exports.sum = (n) => { let s = 0; for (let i = 1; i <= n; i++) s += other.twice(i); return s; };',
      'exports.otherSawMain = other.sawMain();',
      // Functions run only when called: their code is in a cache written after they ran, not in one written before.
      ...Array.from({ length: 40 }, (_, i) => `exports.f${i} = (x) => { const a = [x, ${i}]; return a.map((v) => v * 2).join("-"); };`),
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'other.cjs'),
    ['const main = require("./main.cjs");', 'exports.twice = (x) => x * 2;', 'exports.sawMain = () => typeof main === "object";'].join(
      '\n',
    ),
  );
  return dir;
}

type Main = { name: string; sum(n: number): number; otherSawMain: boolean } & { [f: `f${number}`]: (x: number) => string };

describe('the CLI bundles loaded through the code cache', () => {
  it('loads bundle files that require each other and Node’s modules, each once, and says which it loaded', () => {
    const dir = bundle();
    const seen: string[] = [];
    const listener = (message: unknown) => seen.push((message as { url: string }).url);
    subscribe('flow:bundle-loaded', listener);
    try {
      const loader = new CachedBundleLoader(undefined);
      const main = loader.require(join(dir, 'main.cjs')) as Main;
      expect(main.name).toBe('main.cjs');
      expect(main.sum(3)).toBe(12);
      expect(main.otherSawMain).toBe(true);
      expect(loader.require(join(dir, 'main.cjs'))).toBe(main);
      expect(seen).toEqual([pathToFileURL(join(dir, 'main.cjs')).href, pathToFileURL(join(dir, 'other.cjs')).href]);
    } finally {
      unsubscribe('flow:bundle-loaded', listener);
    }
  });

  it('writes a cache for each file loaded without one, holding the functions that ran', () => {
    const dir = bundle();
    const idle = join(dir, 'idle-cache');
    const busy = join(dir, 'busy-cache');
    // A loader writes only for what it loaded itself.
    new CachedBundleLoader(idle).writeCaches();
    expect(existsSync(idle)).toBe(false);
    const idleLoader = new CachedBundleLoader(idle);
    idleLoader.require(join(dir, 'main.cjs'));
    idleLoader.writeCaches();
    const loader = new CachedBundleLoader(busy);
    const main = loader.require(join(dir, 'main.cjs')) as Main;
    for (let i = 0; i < 40; i++) expect(main[`f${i}`]?.(i)).toBe(`${2 * i}-${2 * i}`);
    loader.writeCaches();
    expect(readdirSync(busy).sort()).toEqual(['main.cjs.cache', 'other.cjs.cache']);
    expect(statSync(join(busy, 'main.cjs.cache')).size).toBeGreaterThan(statSync(join(idle, 'main.cjs.cache')).size + 2000);
  });

  it('compiles again, and writes a good cache, when the one found is not V8’s', () => {
    const dir = bundle();
    const cache = join(dir, 'cache');
    mkdirSync(cache);
    writeFileSync(join(cache, 'main.cjs.cache'), 'not a code cache');
    const loader = new CachedBundleLoader(cache);
    expect((loader.require(join(dir, 'main.cjs')) as Main).sum(2)).toBe(6);
    loader.writeCaches();
    expect(readFileSync(join(cache, 'main.cjs.cache'), 'utf8')).not.toBe('not a code cache');
  });

  it('tries a bundle file again that failed to load, rather than keep it half-loaded', () => {
    const dir = bundle();
    writeFileSync(join(dir, 'flaky.cjs'), 'if (!globalThis.flowTestReady) throw new Error("not yet");\nexports.ok = () => true;\n');
    const loader = new CachedBundleLoader(undefined);
    expect(() => loader.require(join(dir, 'flaky.cjs'))).toThrow('not yet');
    (globalThis as { flowTestReady?: boolean }).flowTestReady = true;
    try {
      expect((loader.require(join(dir, 'flaky.cjs')) as { ok(): boolean }).ok()).toBe(true);
    } finally {
      delete (globalThis as { flowTestReady?: boolean }).flowTestReady;
    }
  });

  it('goes on without a cache it cannot write, and leaves no part of one', () => {
    const dir = bundle();
    // A file where the directory would go: no directory can be made there, even by root.
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, '');
    const loader = new CachedBundleLoader(join(blocked, 'inner'));
    expect((loader.require(join(dir, 'main.cjs')) as Main).sum(1)).toBe(2);
    expect(() => loader.writeCaches()).not.toThrow();
    // A cache file that cannot be renamed into place (a directory is in its way): its partial file is removed.
    const cache = join(dir, 'cache');
    mkdirSync(join(cache, 'main.cjs.cache'), { recursive: true });
    const second = new CachedBundleLoader(cache);
    second.require(join(dir, 'main.cjs'));
    expect(() => second.writeCaches()).not.toThrow();
    expect(readdirSync(cache)).toEqual(['main.cjs.cache']);
  });

  it('writes nothing once the command changed V8’s flags: the next start would refuse those caches', () => {
    const dir = bundle();
    const cache = join(dir, 'cache');
    const loader = new CachedBundleLoader(cache);
    loader.require(join(dir, 'main.cjs'));
    // The setting stays for the rest of this test file's process (V8 has no way back); the tests after it write no cache.
    setV8Flags('--optimize-for-size');
    expect(v8FlagsChanged()).toBe(true);
    loader.writeCaches();
    expect(existsSync(cache)).toBe(false);
  });

  it('names a directory per build and Node, and removes other builds’ directories unused for 30 days or beyond the newest 8', () => {
    const root = tempDir('flow-code-cache-');
    const old = join(root, 'oldbuild-v0-x64');
    mkdirSync(old);
    const longAgo = new Date(Date.now() - 31 * 24 * 3600 * 1000);
    utimesSync(old, longAgo, longAgo);
    const recent = Array.from({ length: 9 }, (_, i) => {
      const dir = join(root, `build${i}-v0-x64`);
      mkdirSync(dir);
      const when = new Date(Date.now() - (i + 1) * 3600 * 1000);
      utimesSync(dir, when, when);
      return `build${i}-v0-x64`;
    });
    const dir = codeCacheDir(root, 'abc123', '');
    expect(dir).toBe(join(root, `abc123-${process.version}-${process.arch}`));
    // Node's options may change V8's flags, which a cache must match: another set, another directory.
    expect(codeCacheDir(root, 'abc123', '--max-old-space-size=4096')).toMatch(/abc123-v[\d.]+-\w+-[0-9a-f]{8}$/);
    // The oldest of the nine recent ones goes with the month-old one.
    expect(readdirSync(root).sort()).toEqual(recent.slice(0, 8).sort());
    // A directory that exists already is used as it is, and nothing is tidied.
    mkdirSync(dir);
    codeCacheDir(root, 'abc123', '');
    expect(readdirSync(root)).toHaveLength(9);
  });
});

describe('flow started through the code cache', () => {
  it('writes a file’s cache on the first three starts that load it, each holding more, then only reads it', () => {
    const dir = tempDir('flow-cc-e2e-');
    writeFileSync(join(dir, 'w.yaml'), 'steps:\n  - { id: a, type: shell, config: { run: "echo hi" } }\n');
    const env = { XDG_CACHE_HOME: join(dir, 'cache'), CI: 'true' };
    const caches = () => {
      const builds = readdirSync(join(dir, 'cache', 'flow', 'code-cache'));
      expect(builds).toHaveLength(1);
      return join(dir, 'cache', 'flow', 'code-cache', String(builds[0]));
    };
    const state = (file: string) => {
      const path = join(caches(), file);
      if (!existsSync(path)) return undefined;
      return { writes: readFileSync(path)[0], size: statSync(path).size, mtime: statSync(path).mtimeMs };
    };
    expect(flow(['--version'], dir, env).code).toBe(0);
    const first = state('cli.cjs.cache');
    expect(first?.writes).toBe(1);
    expect(state('cmd-validate.cjs.cache')).toBeUndefined();
    const starts = [1, 2, 3, 4].map(() => {
      const r = flow(['validate', 'w.yaml'], dir, env);
      expect(r.code, r.stderr).toBe(0);
      return { cli: state('cli.cjs.cache'), validate: state('cmd-validate.cjs.cache') };
    });
    expect(starts.map((s) => [s.cli?.writes, s.validate?.writes])).toEqual([
      [2, 1],
      [3, 2],
      [3, 3],
      [3, 3],
    ]);
    // The start after --version compiled the validate command's part of cli.cjs: its cache holds that too.
    expect(starts[0]?.cli?.size).toBeGreaterThan((first?.size ?? 0) + 1000);
    expect(starts[3]?.cli?.mtime).toBe(starts[2]?.cli?.mtime);
    expect(starts[3]?.validate?.mtime).toBe(starts[2]?.validate?.mtime);
    // NODE_DISABLE_COMPILE_CACHE=1, as for Node's own cache: none is read or written.
    const off = flow(['validate', 'w.yaml'], dir, { ...env, XDG_CACHE_HOME: join(dir, 'other'), NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(off.code, off.stderr).toBe(0);
    expect(existsSync(join(dir, 'other', 'flow', 'code-cache'))).toBe(false);
  });

  it('runs its bundles in strict mode, as the ES modules they were made from', () => {
    const dist = join(import.meta.dirname, '..', '..', 'dist');
    // The bundles, as the build lists them (dist/chunks.json); pg-worker.cjs is a file of its own, copied as it is.
    const bundles = Object.keys(JSON.parse(readFileSync(join(dist, 'chunks.json'), 'utf8')) as object).filter((f) => f.endsWith('.cjs'));
    expect(bundles.length).toBeGreaterThan(10);
    for (const file of bundles) expect(readFileSync(join(dist, file), 'utf8').startsWith('"use strict";'), file).toBe(true);
  });

  it('compiles no cache under --enable-source-maps, whose traces Node maps only for what it compiled itself', () => {
    const dir = tempDir('flow-cc-maps-');
    writeFileSync(join(dir, 'w.yaml'), 'steps:\n  - { id: a, type: shell, config: { run: "echo hi" } }\n');
    const r = spawnSync(process.execPath, ['--enable-source-maps', FLOW_BIN, 'validate', 'w.yaml'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'cache', 'flow', 'code-cache'))).toBe(false);
  });

  it('ignores a relative XDG_CACHE_HOME, as the XDG rules say, for the home directory’s', () => {
    const dir = tempDir('flow-cc-rel-');
    writeFileSync(join(dir, 'w.yaml'), 'steps:\n  - { id: a, type: shell, config: { run: "echo hi" } }\n');
    const r = flow(['validate', 'w.yaml'], dir, { XDG_CACHE_HOME: 'relative', HOME: join(dir, 'home') });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'relative'))).toBe(false);
    expect(readdirSync(join(dir, 'home', '.cache', 'flow', 'code-cache'))).toHaveLength(1);
  });

  // As a container runs an image under an arbitrary user id: no account, so no home directory, and no HOME.
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  const noAccount = ['--reuid=54321', '--regid=54321', '--clear-groups'];
  // Only where that user id has no account, and can read flow and Node (a checkout under a private home cannot).
  const canRunAsNobody =
    process.getuid?.() === 0 &&
    setpriv !== undefined &&
    !/^[^:]*:[^:]*:54321:/m.test(readFileSync('/etc/passwd', 'utf8')) &&
    spawnSync(setpriv, [...noAccount, process.execPath, '-e', `require("fs").accessSync(${JSON.stringify(FLOW_BIN)})`]).status === 0;
  it.skipIf(!canRunAsNobody)('runs with no home directory, and caches nothing', () => {
    // Under /tmp itself: the suite's own temporary directory is not the other user's to enter.
    const dir = mkdtempSync('/tmp/flow-cc-nohome-');
    chmodSync(dir, 0o777);
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'w.yaml'), 'steps:\n  - { id: a, type: shell, config: { run: "echo hi" } }\n');
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.HOME;
    delete env.XDG_CACHE_HOME;
    const r = spawnSync(setpriv!, [...noAccount, process.execPath, FLOW_BIN, 'validate', 'w.yaml'], { cwd: dir, encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('1 file valid');
    expect(readdirSync(dir)).toEqual(['w.yaml']);
  });

  it('writes no cache as it exits on a signal', async () => {
    const dir = tempDir('flow-cc-signal-');
    writeFileSync(join(dir, 'w.yaml'), 'steps:\n  - { id: wait, type: shell, config: { run: "sleep 10" } }\n');
    const child = spawn(process.execPath, [FLOW_BIN, 'run', 'w.yaml'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', GITHUB_ACTIONS: '', XDG_CACHE_HOME: join(dir, 'cache') },
    });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/\[wait\] started/.test(stderr)) child.kill('SIGINT');
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(130);
    expect(existsSync(join(dir, 'cache', 'flow', 'code-cache'))).toBe(false);
  });
});
