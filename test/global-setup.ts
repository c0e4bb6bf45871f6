import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Every temp dir a test makes goes under one root, removed when the run ends: a test run leaves nothing behind.
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'flow-tests-'));
  process.env['TMPDIR'] = root;
  // flow's code caches (src/cli/code-cache.ts) too: the CLI's tests neither fill the user's cache nor start warm from it.
  process.env['XDG_CACHE_HOME'] = join(root, 'cache');
  return () => rmSync(root, { recursive: true, force: true });
}
