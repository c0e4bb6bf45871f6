import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLOW_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { runIdOf } from '../helpers/state.js';
import { inTerminal, terminalEnv } from '../helpers/terminal.js';

// A run pays only for the output it shows: a plain or --json run loads neither ora nor log-update (nor the JUnit
// writer's XML library); a run in a terminal does. dist/chunks.json (written by the build) says which chunk holds what.

const DIST = join(import.meta.dirname, '..', '..', 'dist');
const HOOK = join(import.meta.dirname, '..', 'helpers', 'module-log.mjs');

function chunksWith(pkg: string): string[] {
  const map = JSON.parse(readFileSync(join(DIST, 'chunks.json'), 'utf8')) as Record<string, string[]>;
  const chunks = Object.entries(map)
    .filter(([, packages]) => packages.includes(pkg))
    .map(([file]) => file);
  expect(chunks.length, `no chunk holds ${pkg}`).toBeGreaterThan(0);
  return chunks;
}

function workspace(): { dir: string; log: string } {
  const dir = tempDir('flow-lazy-');
  writeFileSync(join(dir, 'w.yaml'), 'steps:\n  - { id: a, type: shell, config: { run: "echo hi" } }\n');
  return { dir, log: join(dir, 'modules.log') };
}

/** A plain run of flow in `dir`: its exit code, its stderr, and the modules it loaded (logged into `file`). */
function plainRun(dir: string, args: string[], file: string): { code: number | null; stderr: string; modules: string[] } {
  const r = spawnSync(process.execPath, ['--import', HOOK, FLOW_BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', CI: 'true', GITHUB_ACTIONS: '', FLOW_MODULE_LOG: file },
  });
  return { code: r.status, stderr: r.stderr, modules: loaded(file) };
}

const loaded = (log: string) => readFileSync(log, 'utf8').split('\n').filter(Boolean);
const loadedChunk = (modules: string[], chunk: string) => modules.some((url) => url.endsWith(`/dist/${chunk}`));

describe('what a run loads', () => {
  it.each([
    ['plain', ['run', 'w.yaml'], { CI: 'true' }],
    ['--json', ['run', 'w.yaml', '--json'], {}],
    ['GitHub Actions', ['run', 'w.yaml'], { GITHUB_ACTIONS: 'true' }],
  ] as const)(
    'a %s run of a small file without AI steps loads neither ora, log-update, xmlbuilder2, openai nor node:crypto',
    (_, args, env) => {
      const { dir, log } = workspace();
      const r = spawnSync(process.execPath, ['--import', HOOK, FLOW_BIN, ...args], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', GITHUB_ACTIONS: '', ...env, FLOW_MODULE_LOG: log },
      });
      expect(r.status, r.stderr).toBe(0);
      const modules = loaded(log);
      expect(modules.some((url) => url.endsWith('/dist/cli.cjs'))).toBe(true);
      for (const pkg of ['ora', 'log-update', 'xmlbuilder2', 'chalk', 'openai'])
        for (const chunk of chunksWith(pkg)) expect(loadedChunk(modules, chunk), `${pkg} (${chunk}) was loaded`).toBe(false);
      expect(modules).not.toContain('node:crypto');
    },
  );

  it('a run in a terminal loads ora and log-update (and chalk for its colours)', async () => {
    const { dir, log } = workspace();
    const run = inTerminal(['run', 'w.yaml'], dir, terminalEnv({ FLOW_MODULE_LOG: log }), ['--import', HOOK]);
    expect(await run.done).toBe(0);
    const modules = loaded(log);
    // Each command is bundled on its own, so a package can sit in a chunk of each command that uses it.
    for (const pkg of ['ora', 'log-update', 'chalk'])
      expect(
        chunksWith(pkg).some((chunk) => loadedChunk(modules, chunk)),
        pkg,
      ).toBe(true);
  });

  it('a command loads cli.cjs and its own bundle, not a chunk per module it shares with other commands', () => {
    const { dir, log } = workspace();
    const run = plainRun(dir, ['run', 'w.yaml'], log);
    const runs = plainRun(dir, ['runs'], join(dir, 'runs.log'));
    expect([run.code, runs.code], runs.stderr).toEqual([0, 0]);
    // The CLI's bundle files (dist/boot.cjs, which loads them, aside).
    const flowFiles = (modules: string[]) =>
      modules
        .filter((url) => url.includes('/dist/') && url.endsWith('.cjs') && !url.endsWith('/boot.cjs'))
        .map((url) => url.slice(url.lastIndexOf('/') + 1));
    expect(flowFiles(run.modules)).toEqual(expect.arrayContaining(['cli.cjs', 'cmd-run.cjs']));
    expect(flowFiles(runs.modules)).toEqual(expect.arrayContaining(['cli.cjs', 'cmd-runs.cjs']));
    expect(flowFiles(runs.modules).filter((f) => f.startsWith('cmd-'))).toEqual(['cmd-runs.cjs']);
    // One bundle over all commands made `flow runs` load 25 files (and a run 45): one per set of commands sharing code.
    expect(flowFiles(runs.modules).length, flowFiles(runs.modules).join(' ')).toBeLessThanOrEqual(4);
    // A run loaded 24 while its small reporters and the check of a child workflow's file were imported lazily: each
    // lazy part of flow's own code split what it shares with the command into chunks of their own. The YAML parser
    // and the checks are such a part (a run of a kept model needs neither): 13 files became 18 on a first run, 15 on
    // the next.
    expect(flowFiles(run.modules).length, flowFiles(run.modules).join(' ')).toBeLessThanOrEqual(18);
    const again = plainRun(dir, ['run', 'w.yaml'], join(dir, 'again.log'));
    expect(again.code, again.stderr).toBe(0);
    expect(flowFiles(again.modules).length, flowFiles(again.modules).join(' ')).toBeLessThanOrEqual(15);
  });

  it('flow validate loads no node:child_process, which a run loads; neither loads node:crypto for a small file', () => {
    const { dir, log } = workspace();
    const run = plainRun(dir, ['run', 'w.yaml'], log);
    const validate = plainRun(dir, ['validate', 'w.yaml'], join(dir, 'validate.log'));
    expect([run.code, validate.code], validate.stderr).toEqual([0, 0]);
    expect(run.modules).toContain('node:child_process');
    expect(validate.modules).not.toContain('node:child_process');
    expect(run.modules).not.toContain('node:crypto');
    expect(validate.modules).not.toContain('node:crypto');
    // Nor a run of a few steps, in a new state file or again: its text is hashed once per process.
    const few = Array.from({ length: 3 }, (_, i) => `  - { id: step_${i}, type: shell, config: { run: "echo step ${i} of three" } }\n`);
    writeFileSync(join(dir, 'few.yaml'), `name: a few steps\nsteps:\n${few.join('')}`);
    for (const round of ['new', 'again']) {
      const r = plainRun(dir, ['run', 'few.yaml'], join(dir, `few-${round}.log`));
      expect(r.code, r.stderr).toBe(0);
      expect(r.modules, round).not.toContain('node:crypto');
    }
    // A larger file is hashed by node:crypto (src/engine/node-crypto.ts).
    const steps = Array.from({ length: 100 }, (_, i) => `  - { id: s${i}, type: shell, config: { run: "true" } }\n`);
    writeFileSync(join(dir, 'large.yaml'), `steps:\n${steps.join('')}`);
    const large = plainRun(dir, ['run', 'large.yaml'], join(dir, 'large.log'));
    expect(large.code, large.stderr).toBe(0);
    expect(large.modules).toContain('node:crypto');
  });

  it('flow runs loads neither the YAML parser nor ajv, which a run loads', () => {
    const { dir, log } = workspace();
    const run = plainRun(dir, ['run', 'w.yaml'], log);
    const runs = plainRun(dir, ['runs'], join(dir, 'runs.log'));
    expect([run.code, runs.code], runs.stderr).toEqual([0, 0]);
    expect(chunksWith('yaml').some((chunk) => loadedChunk(run.modules, chunk))).toBe(true);
    for (const chunk of chunksWith('yaml')) expect(loadedChunk(runs.modules, chunk), `flow runs loaded ${chunk}`).toBe(false);
    for (const chunk of chunksWith('ajv')) expect(loadedChunk(runs.modules, chunk), `flow runs loaded ${chunk}`).toBe(false);
  });

  it('a second run of the same file takes the checked workflow from the state file, loading neither the YAML parser nor ajv', () => {
    const { dir, log } = workspace();
    const first = plainRun(dir, ['run', 'w.yaml'], log);
    const again = plainRun(dir, ['run', 'w.yaml'], join(dir, 'again.log'));
    expect([first.code, again.code], again.stderr).toEqual([0, 0]);
    expect(chunksWith('yaml').some((chunk) => loadedChunk(first.modules, chunk))).toBe(true);
    for (const pkg of ['yaml', 'ajv'])
      for (const chunk of chunksWith(pkg)) expect(loadedChunk(again.modules, chunk), `the second run loaded ${chunk}`).toBe(false);
  });

  it('a resume from the kept model loads neither the YAML parser nor ajv; a workflow step it runs loads them to check its file', () => {
    const { dir } = workspace();
    const loadsParser = (modules: string[]) => chunksWith('yaml').some((chunk) => loadedChunk(modules, chunk));
    writeFileSync(join(dir, 'child.yaml'), 'steps:\n  - { id: c, type: shell, config: { run: "echo child > child.out" } }\n');
    writeFileSync(
      join(dir, 'parent.yaml'),
      'steps:\n  - { id: a, type: shell, config: { run: "test -f fixed" } }\n  - { id: sub, type: workflow, config: { path: child.yaml } }\n',
    );
    writeFileSync(join(dir, 'w.yaml'), 'steps:\n  - { id: a, type: shell, config: { run: "test -f fixed" } }\n');
    const plain = plainRun(dir, ['run', 'w.yaml'], join(dir, 'plain.log'));
    const parent = plainRun(dir, ['run', 'parent.yaml'], join(dir, 'parent.log'));
    expect([plain.code, parent.code]).toEqual([1, 1]);
    writeFileSync(join(dir, 'fixed'), '');
    const resumed = plainRun(dir, ['resume', runIdOf(plain.stderr)], join(dir, 'resume-plain.log'));
    const resumedParent = plainRun(dir, ['resume', runIdOf(parent.stderr)], join(dir, 'resume-parent.log'));
    expect([resumed.code, resumedParent.code], resumedParent.stderr).toEqual([0, 0]);
    expect(readFileSync(join(dir, 'child.out'), 'utf8')).toBe('child\n');
    expect(loadsParser(resumed.modules)).toBe(false);
    for (const chunk of chunksWith('ajv')) expect(loadedChunk(resumed.modules, chunk), `the resume loaded ${chunk}`).toBe(false);
    expect(loadsParser(resumedParent.modules)).toBe(true);
  });

  it('a local run and flow validate load none of the PostgreSQL store’s code, which a postgres:// run loads', () => {
    const { dir, log } = workspace();
    const modulesOf = (args: string[], file: string) => plainRun(dir, args, file);
    // The chunks that hold the store's SQL, wherever the bundler put it.
    const postgresChunks = readdirSync(DIST).filter(
      (f) => f.endsWith('.cjs') && readFileSync(join(DIST, f), 'utf8').includes('pg_advisory_xact_lock'),
    );
    expect(postgresChunks.length).toBeGreaterThan(0);
    const local = modulesOf(['run', 'w.yaml'], log);
    const validate = modulesOf(['validate', 'w.yaml'], join(dir, 'validate.log'));
    // Port 1 answers nobody: the run stops at the connection, after the store's code has loaded.
    const remote = modulesOf(['run', 'w.yaml', '--state', 'postgres://flow@127.0.0.1:1/flow'], join(dir, 'pg.log'));
    expect([local.code, validate.code, remote.code]).toEqual([0, 0, 2]);
    expect(postgresChunks.some((chunk) => loadedChunk(remote.modules, chunk))).toBe(true);
    for (const chunk of postgresChunks) {
      expect(loadedChunk(local.modules, chunk), `a local run loaded ${chunk}`).toBe(false);
      expect(loadedChunk(validate.modules, chunk), `flow validate loaded ${chunk}`).toBe(false);
    }
  });

  it('a local run and flow validate load neither BullMQ nor the --remote code, which a --remote run loads', () => {
    const { dir, log } = workspace();
    const modulesOf = (args: string[], file: string) => plainRun(dir, args, file);
    const remoteChunks = readdirSync(DIST).filter(
      (f) => f.endsWith('.cjs') && readFileSync(join(DIST, f), 'utf8').includes('stopped answering while it ran job'),
    );
    expect(remoteChunks.length).toBeGreaterThan(0);
    const bullmq = (modules: string[]) => modules.some((url) => url.includes('/node_modules/bullmq/'));
    const local = modulesOf(['run', 'w.yaml'], log);
    const validate = modulesOf(['validate', 'w.yaml'], join(dir, 'validate.log'));
    // Port 1 answers nobody: the run stops at the queue, after its code has loaded, before anything is recorded.
    const remote = modulesOf(['run', 'w.yaml', '--remote', '--queue', 'redis://127.0.0.1:1'], join(dir, 'remote.log'));
    expect([local.code, validate.code, remote.code], remote.stderr).toEqual([0, 0, 2]);
    expect(bullmq(remote.modules)).toBe(true);
    expect(remoteChunks.some((chunk) => loadedChunk(remote.modules, chunk))).toBe(true);
    expect(bullmq(local.modules) || bullmq(validate.modules)).toBe(false);
    for (const chunk of remoteChunks) {
      expect(loadedChunk(local.modules, chunk), `a local run loaded ${chunk}`).toBe(false);
      expect(loadedChunk(validate.modules, chunk), `flow validate loaded ${chunk}`).toBe(false);
    }
  });
});
