import module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { lendImport } from '../model/import-module.js';
import { CachedBundleLoader, codeCacheDir } from './code-cache.js';

// Which build of the CLI's bundles this is (a hash of them, set by scripts/build.mjs): each has its own code cache.
declare const __FLOW_CLI_BUILD__: string;

type Cli = { main(argv: readonly string[]): Promise<number> };

/**
 * bin/flow.js: loads the CLI from `dist` (dist/cli.cjs and the files it requires) through the code cache and runs
 * it; resolves to the exit code.
 */
export async function runCli(argv: readonly string[], dist: string): Promise<number> {
  // This module is one of Node's (dist/boot.cjs): its import() is Node's loader's.
  lendImport((specifier) => import(specifier));
  // Node maps stack traces through source maps only for what it compiled itself: with --enable-source-maps the
  // bundles are Node's CommonJS modules, without the cache.
  if (process.sourceMapsEnabled) return (createRequire(join(dist, 'boot.cjs'))(join(dist, 'cli.cjs')) as Cli).main(argv);
  const home = cacheHome();
  // Node's compile cache (Node 22.1 and later) serves what Node itself loads from here on: a custom step's module,
  // BullMQ. NODE_COMPILE_CACHE chooses its directory, and Node reads NODE_DISABLE_COMPILE_CACHE=1 itself.
  const nodeCache = (module as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;
  if (home !== undefined && !process.env.NODE_COMPILE_CACHE) nodeCache?.(join(home, 'flow', 'compile-cache'));
  const options = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').trim();
  const loader = new CachedBundleLoader(
    home === undefined || process.env.NODE_DISABLE_COMPILE_CACHE === '1'
      ? undefined
      : codeCacheDir(join(home, 'flow', 'code-cache'), __FLOW_CLI_BUILD__, options),
  );
  // Not after a stop by a signal (exit codes 128 and over): a second Ctrl-C exits at once.
  process.once('exit', (code) => {
    if (code < 128) loader.writeCaches();
  });
  return (loader.require(join(dist, 'cli.cjs')) as Cli).main(argv);
}

/** The user's cache directory: none without a home. */
function cacheHome(): string | undefined {
  // The XDG base directory rules: a relative XDG_CACHE_HOME is ignored.
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return xdg;
  try {
    return join(homedir(), '.cache');
  } catch {
    // No HOME, and a user id with no account (a container run as an arbitrary user).
    return undefined;
  }
}
