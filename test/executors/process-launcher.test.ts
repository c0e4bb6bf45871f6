import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findProgram } from '../../src/executors/find-program.js';
import { LAUNCHER_SCRIPT } from '../../src/executors/launcher-protocol.js';
import { isAlive } from '../helpers/processes.js';
import { closeLaunchers, launch, warmLaunchers, type LaunchedProcess, type LaunchRequest } from '../../src/executors/process-launcher.js';

const dir = mkdtempSync(join(tmpdir(), 'flow-launcher-'));
afterAll(() => {
  closeLaunchers();
  rmSync(dir, { recursive: true, force: true });
});

interface Ran {
  pid: number | undefined;
  exitCode: number;
  startError?: string;
  stdout: string;
  stderr: string;
}

async function run(file: string, args: string[], extra: Partial<LaunchRequest> = {}): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  // With every launcher busy, launch() declines and warms one up: ask once more after that.
  const request = (): Promise<LaunchedProcess | undefined> =>
    launch({
      file,
      path: findProgram(file, process.env['PATH'], dir) ?? file,
      args,
      cwd: dir,
      env: { ...(process.env as Record<string, string>) },
      onStdout: (t) => (stdout += t),
      onStderr: (t) => (stderr += t),
      ...extra,
    });
  let started = await request();
  if (!started) {
    await new Promise((r) => setTimeout(r, 100));
    started = await request();
  }
  if (!started) throw new Error('the launcher refused the request');
  const done = await started.done;
  return { pid: started.pid, ...done, stdout, stderr };
}

// Both launchers speak one protocol: flow's native one (dist/flow-launcher, built by npm run build) and bash.
describe.each(['native', 'bash'] as const)('process launcher (%s)', (kind) => {
  beforeAll(() => {
    closeLaunchers();
    if (kind === 'bash') process.env['FLOW_PROCESS_LAUNCHER'] = 'bash';
  });
  afterAll(() => {
    delete process.env['FLOW_PROCESS_LAUNCHER'];
    closeLaunchers();
  });

  it(`starts programs through ${kind === 'native' ? "flow's own launcher program" : 'bash'}`, async () => {
    const out = await run('sh', ['-c', 'readlink /proc/$PPID/exe']);
    expect(out.stdout.trim()).toMatch(kind === 'native' ? /\/dist\/flow-launcher$/ : /\/bash$/);
  });

  it('ends at a size line that is not a number, or past any request flow sends, as bash does', () => {
    const program = kind === 'native' ? fileURLToPath(new URL('../../dist/flow-launcher', import.meta.url)) : 'bash';
    const args = kind === 'native' ? [] : ['--noprofile', '--norc', '-c', LAUNCHER_SCRIPT, 'flow-launcher'];
    for (const size of ['abc', '-1', '18446744073709551615', ''])
      for (const after of ['', '12\nC/\nP/bin/true\n']) {
        const r = spawnSync(program, args, {
          input: `sentinel\n${size}\n${after}`,
          stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
          timeout: 5000,
        });
        expect([r.status, r.signal, String(r.output[3])], size).toEqual([0, null, '']);
      }
  });

  it('passes argv and environment values verbatim, whatever shell syntax they hold', async () => {
    const hostile = ['a\nb', 'back\\slash\\n', '%s %b \\c', '$(touch pwned)', '"; echo hi; "', "it's", 'ünï €', '', ' spaced  '];
    const argv = await run(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...hostile]);
    expect(JSON.parse(argv.stdout)).toEqual(hostile);
    const env = Object.fromEntries(hostile.map((v, i) => [`V${i}`, v]));
    const seen = await run(
      process.execPath,
      ['-e', 'process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => /^V\\d$/.test(k)))))'],
      {
        env: { ...(process.env as Record<string, string>), ...env },
      },
    );
    expect(JSON.parse(seen.stdout)).toEqual(env);
    expect(spawnSync('ls', [dir]).stdout.toString()).not.toContain('pwned');
  });

  it('gives the program exactly the environment asked for: removed names are gone; PWD names its directory (and bash adds _)', async () => {
    const { SHLVL: _shlvl, ...rest } = process.env as Record<string, string>;
    const asked: Record<string, string> = { ...rest, ONLY_HERE: '1', OLDPWD: '/somewhere/else' };
    delete asked['HOME'];
    const out = await run(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.env))'], { env: asked });
    const got = JSON.parse(out.stdout) as Record<string, string>;
    // Both set PWD to the directory they start the program in, as a shell does; bash exports `_` (the program's path).
    delete got['_'];
    expect(got['PWD']).toBe(dir);
    delete got['PWD'];
    const expected: Record<string, string> = { ...asked };
    delete expected['PWD'];
    delete expected['_'];
    expect(got).toEqual(expected);
    // A PWD the step sets itself is what the program sees.
    const own = await run(process.execPath, ['-e', 'process.stdout.write(process.env.PWD)'], { env: { ...asked, PWD: '/custom' } });
    expect(own.stdout).toBe('/custom');
  });

  it('starts each program in a process group of its own, and kills what it leaves behind when it exits', async () => {
    const out = await run('sh', ['-c', 'cut -d" " -f5 /proc/$$/stat; sleep 30 & echo $!']);
    expect(out.exitCode).toBe(0);
    const [group, leftover] = out.stdout.trim().split('\n').map(Number);
    expect(group).toBe(out.pid);
    expect(out.pid).not.toBe(process.pid);
    // The background sleep was in that group: it is killed (a signal takes a moment to land).
    for (let i = 0; i < 50 && isAlive(leftover!); i++) await new Promise((r) => setTimeout(r, 20));
    expect(isAlive(leftover!)).toBe(false);
  });

  it('reports the exit code, and 128 + n for a program killed by signal n', async () => {
    expect((await run('sh', ['-c', 'exit 7'])).exitCode).toBe(7);
    expect((await run('sh', ['-c', 'kill -TERM $$'])).exitCode).toBe(128 + 15);
  });

  it('keeps each step its own output, on both streams, in order and complete', async () => {
    const big = await run('sh', ['-c', 'i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); done; echo err >&2']);
    const lines = big.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(20000);
    expect(lines.at(-1)).toBe('line 19999');
    expect(big.stderr).toBe('err\n');
    const next = await run('sh', ['-c', 'printf next']);
    expect(next).toMatchObject({ stdout: 'next', stderr: '' });
    // Output that ends in the sentinel's first character is held back only until the stream ends.
    const tricky = await run('sh', ['-c', "printf 'a\\001'"]);
    expect(tricky.stdout).toBe('a\u0001');
  });

  it('runs the file it is given, with the name it is given as argv[0], even a path that starts with a dash', async () => {
    const out = await run('whatever-name', ['-c', 'echo "$0"'], { path: '/bin/sh' });
    expect(out).toMatchObject({ exitCode: 0, stdout: 'whatever-name\n' });
    mkdirSync(join(dir, '-d'), { recursive: true });
    writeFileSync(join(dir, '-d', 'tool'), '#!/bin/sh\necho tool ran\n', { mode: 0o755 });
    expect(await run('tool', [], { path: '-d/tool' })).toMatchObject({ exitCode: 0, stdout: 'tool ran\n' });
    // A relative path is the kernel's to resolve, from the real directory: `..` under a symlinked cwd is not text.
    mkdirSync(join(dir, 'real', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'real', 'tool'), '#!/bin/sh\necho real tool\n', { mode: 0o755 });
    writeFileSync(join(dir, 'tool'), '#!/bin/sh\necho wrong tool\n', { mode: 0o755 });
    symlinkSync(join(dir, 'real', 'sub'), join(dir, `link-${kind}`));
    expect(await run('tool', [], { path: '../tool', cwd: join(dir, `link-${kind}`) })).toMatchObject({ stdout: 'real tool\n' });
  });

  it('a program gone since it was found, or a directory gone, fails the start the way a shell does', async () => {
    const gone = await run('gone', [], { path: join(dir, 'gone') });
    expect(gone.exitCode).toBe(127);
    expect(gone.stderr).toMatch(/gone: No such file or directory/);
    // The launcher's own messages never reach a step: a cd that fails is a bare exit 1.
    const noDir = await run('true', [], { cwd: join(dir, 'nope') });
    expect(noDir).toMatchObject({ exitCode: 1, stderr: '' });
  });

  it('refuses a request past its size limit, so the caller starts it itself', async () => {
    const request = (env: Record<string, string>): LaunchRequest => ({
      file: 'true',
      path: '/bin/true',
      args: [],
      cwd: dir,
      env,
      onStdout: () => {},
      onStderr: () => {},
    });
    warmLaunchers(1);
    expect(await launch(request({ ...(process.env as Record<string, string>), BIG: 'x'.repeat(70_000) }))).toBeUndefined();
    // The same launcher takes a request within the limit.
    const fits = await launch(request({ ...(process.env as Record<string, string>), BIG: 'x'.repeat(60_000) }));
    expect((await fits!.done).exitCode).toBe(0);
  });

  it("a name of the launcher's own, or one bash gives a meaning, changes nothing about what runs", async () => {
    const env = {
      ...(process.env as Record<string, string>),
      cwd: '/',
      argv: '/usr/bin/id',
      line: 'G',
      v: 'x',
      kv: 'k=v',
      pid: '1',
      sentinel: 's',
    };
    const out = await run('sh', ['-c', 'pwd; echo "$cwd|$argv|$line|$v|$kv|$pid|$sentinel"'], { env });
    expect(out.stdout).toBe(`${dir}\n/|/usr/bin/id|G|x|k=v|1|s\n`);
    warmLaunchers(1);
    const refuse = (extra: Record<string, string>) =>
      launch({
        file: 'true',
        path: '/bin/true',
        args: [],
        cwd: dir,
        env: { ...(process.env as Record<string, string>), ...extra },
        onStdout: () => {},
        onStderr: () => {},
      });
    // OPTIND is an integer to bash: exporting it would evaluate the value as arithmetic, $( ) included.
    for (const name of ['OPTIND', 'IFS', 'SHELLOPTS', 'BASH_ARGV0', '__flow_cwd', 'NOT-AN-IDENTIFIER'])
      expect(await refuse({ [name]: 'a[$(touch pwned)]' })).toBeUndefined();
    expect(await refuse({ NUL: 'a\0b' })).toBeUndefined();
    expect(spawnSync('ls', [dir]).stdout.toString()).not.toContain('pwned');
  });

  it('does not show the end-of-output sentinel to the programs it starts', async () => {
    const out = await run('sh', ['-c', 'tr "\\0" " " < /proc/$PPID/cmdline']);
    expect(out.stdout).toContain('flow-launcher');
    expect(out.stdout).not.toContain('flow-step-end');
  });

  it('waits for a program that is stopped and continued, rather than reporting it ended', async () => {
    // bash's wait -f has returned a stale stop status now and then: five times over, with the stop early and late.
    for (const delay of [0.05, 0.2, 0.05, 0.2, 0.1]) {
      const out = await run('sh', ['-c', `(sleep ${delay}; kill -CONT $$) & kill -STOP $$; echo resumed; exit 3`]);
      expect(out).toMatchObject({ exitCode: 3, stdout: 'resumed\n' });
    }
  });

  it("keeps bash's own complaints out of a step's stderr", async () => {
    const out = await run('sh', ['-c', 'exit 0'], { env: { ...(process.env as Record<string, string>), LC_ALL: 'xx_XX.UTF-8' } });
    expect(out).toMatchObject({ exitCode: 0, stderr: '' });
  });

  it('retires a launcher whose output a program left non-blocking, so the next program can write all it wants', async () => {
    // node makes its stdout non-blocking when it first touches it, and a SIGKILL leaves it so.
    const first = await run('sh', [
      '-c',
      `echo $PPID; ${JSON.stringify(process.execPath)} -e "process.stdout; setInterval(() => {}, 1000)" & sleep 0.5`,
    ]);
    const second = await run('sh', ['-c', 'echo $PPID; head -c 3000000 /dev/zero | tr "\\0" x']);
    expect(second.exitCode).toBe(0);
    expect(second.stderr).toBe('');
    expect(second.stdout.length).toBe(second.stdout.indexOf('\n') + 1 + 3_000_000);
    expect(second.stdout.split('\n')[0]).not.toBe(first.stdout.split('\n')[0]);
  });

  it('retires a launcher that receives output after its step ended, so the next step does not get it', async () => {
    // setsid takes the writer out of the step's group before the step ends (the sleep 0.1), so it survives it.
    const a = await run('sh', ['-c', 'echo $PPID; setsid sh -c "sleep 0.3; echo LATE" & sleep 0.1; echo a']);
    await new Promise((r) => setTimeout(r, 600));
    const b = await run('sh', ['-c', 'echo $PPID; echo b']);
    expect(b.stdout).not.toContain('LATE');
    expect(b.stdout.split('\n')[0]).not.toBe(a.stdout.split('\n')[0]);
  });

  it('reuses an idle launcher, and starts one per concurrent program', async () => {
    const parentOf = async () => Number((await run('sh', ['-c', 'echo $PPID'])).stdout.trim());
    const first = await parentOf();
    expect(await parentOf()).toBe(first);
    const both = await Promise.all([run('sh', ['-c', 'sleep 0.3; echo $PPID']), run('sh', ['-c', 'sleep 0.3; echo $PPID'])]);
    const parents = new Set(both.map((r) => r.stdout.trim()));
    expect(parents.size).toBe(2);
  });

  it('fails the running step when its launcher dies, and starts a new launcher for the next', async () => {
    let stdout = '';
    warmLaunchers(1);
    const started = await launch({
      file: 'sh',
      path: '/bin/sh',
      args: ['-c', 'echo $PPID; sleep 30'],
      cwd: dir,
      env: process.env as Record<string, string>,
      onStdout: (t) => (stdout += t),
      onStderr: () => {},
    });
    while (!stdout.includes('\n')) await new Promise((r) => setTimeout(r, 10));
    const launcherPid = Number(stdout.trim());
    process.kill(launcherPid, 'SIGKILL');
    await expect(started!.done).rejects.toThrow(/launcher ended/);
    process.kill(-started!.pid!, 'SIGKILL');
    expect((await run('sh', ['-c', 'exit 0'])).exitCode).toBe(0);
  });
});

// In a bundle of its own, outside the checkout: through bash, or the flow-launcher beside the bundle.
describe('process launcher, bundled on its own', () => {
  const bundled = (file: string) => {
    const bundle = join(dir, file);
    buildSync({
      entryPoints: [fileURLToPath(new URL('../../src/executors/process-launcher.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'node',
      outfile: bundle,
      logLevel: 'silent',
    });
    return bundle;
  };
  const TRUE = `{ file: 'true', path: '/bin/true', args: [], cwd: process.cwd(), env: process.env, onStdout() {}, onStderr() {} }`;

  it('with no file descriptors left, refuses the request instead of crashing, and gives back its slot', () => {
    const bundle = bundled('launcher-fds.mjs');
    // Once descriptors are free again, the next program finds no launcher alive and starts one: the failed ones were
    // each counted out once.
    const script = `import { launch } from ${JSON.stringify(bundle)};
import { closeSync, openSync } from 'node:fs';
const held = [];
try { for (;;) held.push(openSync('/dev/null', 'r')); } catch {}
const req = ${TRUE};
const results = [];
for (let i = 0; i < 20; i++) results.push(await launch(req).then((p) => (p ? 'started' : 'refused'), (e) => 'rejected'));
for (const fd of held) closeSync(fd);
await new Promise((r) => setTimeout(r, 20));
const after = await launch(req);
console.log([...new Set(results)].join(','), after ? (await after.done).exitCode : 'refused');`;
    const res = spawnSync('bash', ['-c', `ulimit -n 64 && exec ${JSON.stringify(process.execPath)} --input-type=module -e "$0"`, script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('refused 0\n');
  });

  // A flow-launcher that says it cannot run here (exit 3), or cannot be executed at all: the step starts directly,
  // and the next one goes through bash.
  it.each([
    ['says it cannot run here', 'unsupported', '#!/bin/sh\nexit 3\n'],
    ['cannot be executed', 'no-interpreter', '#!/nonexistent/interpreter\n'],
  ])('a launcher program that %s is passed over for the rest of the process', (_, sub, launcher) => {
    mkdirSync(join(dir, sub));
    const bundle = bundled(join(sub, 'launcher.mjs'));
    writeFileSync(join(dir, sub, 'flow-launcher'), launcher, { mode: 0o755 });
    const script = `import { launch } from ${JSON.stringify(bundle)};
const req = ${TRUE};
const first = await launch(req).then((p) => (p ? 'started' : 'refused'), (e) => e.constructor.name);
let parent = '';
const second = await launch({ ...req, file: 'sh', path: '/bin/sh', args: ['-c', 'readlink /proc/$PPID/exe'], onStdout: (t) => (parent += t) });
console.log(first, (await second.done).exitCode, parent.trim());`;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/^LauncherUnavailable 0 \S*\/bash\n$/);
  });

  it('does not keep the process alive once no program runs', () => {
    const bundle = bundled('launcher.mjs');
    const script = `import { launch, warmLaunchers } from ${JSON.stringify(bundle)};
warmLaunchers(1);
const p = await launch({ file: 'true', path: '/bin/true', args: [], cwd: process.cwd(), env: process.env, onStdout() {}, onStderr() {} });
console.log('exit', (await p.done).exitCode);`;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(res.signal).toBeNull();
    expect(res.stdout).toBe('exit 0\n');
  });
});
