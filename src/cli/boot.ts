import { homedir } from 'node:os';
import { join } from 'node:path';
import { lendImport } from '../model/import-module.js';
import { CachedBundleLoader, codeCacheDir } from './code-cache.js';

// Which build of the CLI's bundles this is (a hash of them, set by scripts/build.mjs): each has its own code cache.
declare const __FLOW_CLI_BUILD__: string;

/**
 * bin/flow.js: loads the CLI from `dist` (dist/cli.cjs and the files it requires) through the code cache and runs
 * it; resolves to the exit code.
 */
export async function runCli(argv: readonly string[], dist: string): Promise<number> {
  // As for Node's own compile cache: NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  const off = process.env.NODE_DISABLE_COMPILE_CACHE === '1';
  const root = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'flow', 'code-cache');
  const loader = new CachedBundleLoader(off ? undefined : codeCacheDir(root, __FLOW_CLI_BUILD__));
  process.once('exit', () => loader.writeCaches());
  // This module is one of Node's (dist/boot.cjs): its import() is Node's loader's.
  lendImport((specifier) => import(specifier));
  const cli = loader.require(join(dist, 'cli.cjs')) as { main(argv: readonly string[]): Promise<number> };
  return cli.main(argv);
}
