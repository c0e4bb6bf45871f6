// The tests' throwaway servers (test/helpers/postgres.ts, redis.ts), bundled for a plain Node benchmark process.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export async function loadServerHelper(root, helper) {
  // Inside the checkout, so that what it leaves external (vitest, imported by a helper it shares) is found.
  const out = join(root, 'node_modules', '.cache', 'flow-bench', `${helper}-helper.mjs`);
  await build({
    entryPoints: [join(root, 'test', 'helpers', `${helper}.ts`)],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['vitest'],
    logLevel: 'warning',
  });
  return import(pathToFileURL(out).href);
}
