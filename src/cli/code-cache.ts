import { channel } from 'node:diagnostics_channel';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

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

  /** `cacheDir` undefined: compile without a cache (NODE_DISABLE_COMPILE_CACHE=1). */
  constructor(private readonly cacheDir: string | undefined) {}

  /** The exports of the bundle file at `file` (absolute), loading it and the bundle files it requires. */
  require(file: string): unknown {
    const known = this.modules.get(file);
    if (known) return known.exports;
    const module = { exports: {} };
    // Before it runs: two chunks that require each other see each other's exports as far as they are defined.
    this.modules.set(file, module);
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
    const nodeRequire = createRequire(file);
    const local = (id: string) => (id.startsWith('./') ? this.require(join(dir, id)) : nodeRequire(id));
    const wrapper = script.runInThisContext() as (this: unknown, ...args: unknown[]) => void;
    wrapper.call(module.exports, module.exports, local, module, file, dir);
    return module.exports;
  }

  /**
   * Writes the code cache of each bundle file loaded without one, or with one fewer than WRITES starts wrote, with
   * what V8 compiled of it by now. Called as the process exits. A cache that cannot be written is no error: the next
   * start compiles again.
   */
  writeCaches(): void {
    const due = this.compiled.filter((c) => c.writes < WRITES);
    if (this.cacheDir === undefined || due.length === 0) return;
    try {
      mkdirSync(this.cacheDir, { recursive: true, mode: 0o700 });
      for (const { script, cacheFile, writes } of due) {
        // Renamed into place: a process starting meanwhile reads the old cache or the new one, never half of one.
        const partial = `${cacheFile}.${process.pid}`;
        writeFileSync(partial, Buffer.concat([Buffer.of(writes + 1), script.createCachedData()]), { mode: 0o600 });
        renameSync(partial, cacheFile);
      }
    } catch {
      // A read-only or full cache directory.
    }
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
 * version and its flags, so each build gets its own. Other builds' directories unused for 30 days go when a new one
 * is made.
 */
export function codeCacheDir(root: string, build: string): string {
  const dir = join(root, `${build}-${process.version}-${process.arch}`);
  try {
    statSync(dir);
  } catch {
    removeStale(root);
  }
  return dir;
}

const STALE_MS = 30 * 24 * 3600 * 1000;

function removeStale(root: string): void {
  try {
    for (const entry of readdirSync(root)) {
      const path = join(root, entry);
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    }
  } catch {
    // No cache yet, or one flow cannot tidy: neither stops a command.
  }
}
