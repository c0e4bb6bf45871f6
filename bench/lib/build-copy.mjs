// A private copy of flow's build (bin/, dist/, package.json, node_modules linked), for benchmarks that run for minutes
// while other work may rebuild dist/: a rebuild in the middle of a run would fail a step (a chunk gone) or mix builds.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './measure.mjs';

// Identifies a build (dist/cli.cjs's mtime); 'missing' while a rebuild has removed it.
export function buildStamp(root) {
  const cli = join(root, 'dist', 'cli.cjs');
  return existsSync(cli) ? statSync(cli).mtime.toISOString() : 'missing';
}

// Every file of dist/ with its size and mtime: equal before and after a copy means no rebuild touched it meanwhile.
function listing(root) {
  const dist = join(root, 'dist');
  if (!existsSync(dist)) return '';
  return readdirSync(dist)
    .sort()
    .map((f) => {
      const st = statSync(join(dist, f));
      return `${f} ${st.size} ${st.mtimeMs}`;
    })
    .join('\n');
}

// Copies the build under `root` into `into` and returns the build's stamp. A copy taken while dist/ changed, or one
// that cannot start, is taken again after a pause (for at most about a minute).
export function copyBuild(root, into, log = () => {}) {
  for (let tries = 0; ; tries++) {
    const stamp = buildStamp(root);
    const before = listing(root);
    if (stamp !== 'missing' && copied(root, into) && listing(root) === before) return stamp;
    if (tries >= 20) throw new Error('could not copy a complete build of dist/; run `node scripts/build.mjs` first');
    if (tries === 0) log('  dist/ is being rebuilt; waiting to copy a complete build...');
    sleep(3000);
  }
}

// One copy attempt; false when a file went away under it (a rebuild) or the copy cannot start.
function copied(root, into) {
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true });
  try {
    cpSync(join(root, 'dist'), join(into, 'dist'), { recursive: true });
    cpSync(join(root, 'bin'), join(into, 'bin'), { recursive: true });
    copyFileSync(join(root, 'package.json'), join(into, 'package.json'));
  } catch (err) {
    if (err.code === 'ENOENT') return false;
    throw err;
  }
  symlinkSync(join(root, 'node_modules'), join(into, 'node_modules'), 'dir');
  return spawnSync(process.execPath, [join(into, 'bin', 'flow.js'), '--version'], { stdio: 'ignore' }).status === 0;
}
