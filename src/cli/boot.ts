import { createRequire } from 'node:module';
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
  const root = cacheRoot();
  const options = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').trim();
  const loader = new CachedBundleLoader(root === undefined ? undefined : codeCacheDir(root, __FLOW_CLI_BUILD__, options));
  // Not after a stop by a signal (exit codes 128 and over): a second Ctrl-C exits at once.
  process.once('exit', (code) => {
    if (code < 128) loader.writeCaches();
  });
  return (loader.require(join(dist, 'cli.cjs')) as Cli).main(argv);
}

/** Where the code caches go: none with NODE_DISABLE_COMPILE_CACHE=1 (as for Node's own), or without a home. */
function cacheRoot(): string | undefined {
  if (process.env.NODE_DISABLE_COMPILE_CACHE === '1') return undefined;
  // The XDG base directory rules: a relative XDG_CACHE_HOME is ignored.
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'flow', 'code-cache');
  try {
    return join(homedir(), '.cache', 'flow', 'code-cache');
  } catch {
    // No HOME, and a user id with no account (a container run as an arbitrary user).
    return undefined;
  }
}
