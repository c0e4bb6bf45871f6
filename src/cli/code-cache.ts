import { channel } from 'node:diagnostics_channel';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { v8FlagsChanged } from '../model/v8-flags.js';

// flow's CLI is CommonJS bundles (dist/*.cjs, scripts/build.mjs) that this loader compiles with V8's code cache.
// Node's own compile cache (Node 22.1 and later) keeps only what V8 compiles before a module runs, so every function
// a command calls was compiled again at each start; Node 20 has none at all. The cache written here is made when the
// command has run, and holds what it compiled: `flow validate` of 100 steps 166 -> 144 ms on Node 20 and 132 -> 114
// on Node 26, a one-step `flow run` 99 -> 83 and 94 -> 77 (21 interleaved runs each; bench/RESULTS.md).

/** Published for each bundle file loaded, with its file URL: tests see what a command loads. */
export const bundleLoaded = channel('flow:bundle-loaded');

const WRAPPER = '(function (exports, require, module, __filename, __dirname) {\n';

// A cache is written by the first start that loads its file, then again by the next ones up to this many: each start
// that finds it compiles what it runs beyond it, so the cache becomes the union of what those starts ran (the first
// may have been `flow --version`). Each write costs a few milliseconds as the command ends. The count is the cache
// file's first byte.
const WRITES = 3;

interface Compiled {
  script: Script;
  cacheFile: string;
  /** How many starts wrote the cache V8 took for this file; 0 when it took none. */
  writes: number;
}

export class CachedBundleLoader {
  private readonly modules = new Map<string, { exports: unknown }>();
  private readonly compiled: Compiled[] = [];
  // Node's require for the modules the bundles name (node:fs, better-sqlite3), one per directory of bundle files.
  private readonly nodeRequires = new Map<string, NodeJS.Require>();

  /** `cacheDir` undefined: compile without a cache (NODE_DISABLE_COMPILE_CACHE=1). */
  constructor(private readonly cacheDir: string | undefined) {}

  /** The exports of the bundle file at `file` (absolute), loading it and the bundle files it requires. */
  require(file: string): unknown {
    const known = this.modules.get(file);
    if (known) return known.exports;
    const module = { exports: {} };
    // Before it runs: two chunks that require each other see each other's exports as far as they are defined.
    this.modules.set(file, module);
    try {
      this.load(file, module);
    } catch (err) {
      // Not kept half-loaded: a later require (a long-running `flow serve`) tries again, as Node's require does.
      this.modules.delete(file);
      throw err;
    }
    return module.exports;
  }

  private load(file: string, module: { exports: unknown }): void {
    const dir = dirname(file);
    const cacheFile = this.cacheDir === undefined ? undefined : join(this.cacheDir, `${file.slice(dir.length + 1)}.cache`);
    const found = cacheFile === undefined ? undefined : readIfAny(cacheFile);
    const cachedData = found?.subarray(1);
    const script = new Script(`${WRAPPER}${readFileSync(file, 'utf8')}\n})`, { filename: file, lineOffset: -1, cachedData });
    if (cacheFile !== undefined) {
      const writes = found === undefined || found.length < 2 || script.cachedDataRejected ? 0 : (found[0] as number);
      this.compiled.push({ script, cacheFile, writes });
    }
    if (bundleLoaded.hasSubscribers) bundleLoaded.publish({ url: pathToFileURL(file).href });
    const nodeRequire = this.nodeRequires.get(dir) ?? createRequire(file);
    this.nodeRequires.set(dir, nodeRequire);
    const local = (id: string) => (id.startsWith('./') ? this.require(join(dir, id)) : nodeRequire(id));
    const wrapper = script.runInThisContext() as (this: unknown, ...args: unknown[]) => void;
    wrapper.call(module.exports, module.exports, local, module, file, dir);
  }

  /**
   * Writes the code cache of each bundle file loaded without one, or with one fewer than WRITES starts wrote, with
   * what V8 compiled of it by now. Called as the process exits. A cache that cannot be written is no error: the next
   * start compiles again.
   */
  writeCaches(): void {
    const due = this.compiled.filter((c) => c.writes < WRITES);
    if (this.cacheDir === undefined || due.length === 0) return;
    // A run that changed V8's flags (src/cli/memory-mode.ts) would write caches the next start refuses.
    if (v8FlagsChanged()) return;
    let partial: string | undefined;
    try {
      mkdirSync(this.cacheDir, { recursive: true, mode: 0o700 });
      for (const { script, cacheFile, writes } of due) {
        // Renamed into place: a process starting meanwhile reads the old cache or the new one, never half of one.
        partial = `${cacheFile}.${process.pid}`;
        writeFileSync(partial, Buffer.concat([Buffer.of(writes + 1), script.createCachedData()]), { mode: 0o600 });
        renameSync(partial, cacheFile);
        partial = undefined;
      }
    } catch {
      // A read-only or full cache directory: what was begun goes.
      if (partial !== undefined) removeIfAny(partial);
    }
  }
}

function removeIfAny(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Never written.
  }
}

function readIfAny(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * The cache directory of one build of flow under one Node: V8 checks of a cache only its source's length, its own
 * version and its flags, so each build gets its own. When a new one is made, the others go if unused for 30 days, or
 * beyond the newest KEPT (a checkout rebuilt every hour would otherwise leave one a build).
 */
export function codeCacheDir(root: string, build: string, options: string): string {
  // Node's options may set V8's flags (--max-old-space-size), which V8 checks a cache against: each set its own.
  const dir = join(root, `${build}-${process.version}-${process.arch}${options === '' ? '' : `-${fnv1a(options)}`}`);
  try {
    // In use: kept from the tidying of the directories of other builds.
    if (Date.now() - statSync(dir).mtimeMs > DAY_MS) utimesSync(dir, new Date(), new Date());
  } catch {
    removeStale(root);
  }
  return dir;
}

/** A short hash of a string, for a directory's name (node:crypto costs a start milliseconds). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

const DAY_MS = 24 * 3600 * 1000;

const STALE_MS = 30 * DAY_MS;
const KEPT = 8;

function removeStale(root: string): void {
  try {
    const dirs = readdirSync(root)
      .map((entry) => ({ path: join(root, entry), mtime: statSync(join(root, entry)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const [i, { path, mtime }] of dirs.entries()) {
      if (i >= KEPT || Date.now() - mtime > STALE_MS) rmSync(path, { recursive: true, force: true });
    }
  } catch {
    // No cache yet, or one flow cannot tidy: neither stops a command.
  }
}
