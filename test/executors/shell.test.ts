import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate as evaluateExpression, resolveValue } from '../../src/engine/expressions.js';
import { StepFailure } from '../../src/engine/step-failure.js';
import { MAX_CAPTURE_BYTES, directArgv } from '../../src/executors/shell-output.js';
import { warmLaunchers } from '../../src/executors/process-launcher.js';
import { shellExecutor } from '../../src/executors/shell.js';
import { isAlive } from '../helpers/processes.js';
import { failure } from '../helpers/step-failure.js';
import { removeStepContextDirs, stepContext, type TestStepContext } from '../helpers/step-context.js';

afterAll(removeStepContextDirs);

type Out = Record<string, unknown>;

/** What the engine does with a shell step: resolveConfig against a scope (the real expression engine), then execute. */
async function runStep(
  raw: Record<string, unknown>,
  context: TestStepContext = stepContext(),
  scope: object = { inputs: context.inputs },
): Promise<Out> {
  const config = await shellExecutor.resolveConfig!(
    raw,
    (value) => resolveValue(value, scope),
    (source) => evaluateExpression(source, scope),
  );
  return (await shellExecutor.execute(config, context)) as Out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Every process starts through the launcher (a long-lived bash) unless FLOW_PROCESS_LAUNCHER=off, or the step
// needs what the launcher cannot give exactly; then Node's spawn directly. Both paths must behave the same.
for (const mode of ['launcher', 'direct'] as const) {
  describe(`started through ${mode}`, () => {
    beforeAll(() => {
      if (mode === 'direct') process.env['FLOW_PROCESS_LAUNCHER'] = 'off';
      else delete process.env['FLOW_PROCESS_LAUNCHER'];
      // A step that finds every launcher busy starts directly (and warms one): have them ready.
      warmLaunchers(4);
    });
    afterAll(() => {
      delete process.env['FLOW_PROCESS_LAUNCHER'];
    });

    it.runIf(mode === 'launcher')('a step whose launcher dies fails with a clear error, and its group is killed', async () => {
      warmLaunchers(1);
      const context = stepContext();
      const pids = new Promise<number[]>((resolve) => {
        context.emitOutput = (_stream, text) => resolve(text.trim().split(' ').map(Number));
      });
      const running = runStep({ command: ['sh', '-c', 'echo $PPID $$; sleep 30 & wait'] }, context);
      const [launcher, step] = await pids;
      process.kill(launcher!, 'SIGKILL');
      const err = await failure(running);
      expect(err.errorClass).toBe('error');
      expect(err.message).toContain('was lost: the process launcher ended unexpectedly');
      for (let i = 0; i < 50 && isAlive(step!); i++) await sleep(20);
      expect(isAlive(step!)).toBe(false);
    });

    it(`the step's process is a child of ${mode === 'launcher' ? 'a launcher' : 'flow'}`, async () => {
      const out = await runStep({ command: ['sh', '-c', 'echo $PPID'] });
      const parent = Number(String(out['stdout']).trim());
      if (mode === 'direct') expect(parent).toBe(process.pid);
      else expect(readFileSync(`/proc/${parent}/cmdline`, 'utf8')).toContain('flow-launcher');
    });

    describe('shell executor: run and command', () => {
      it('`run` goes through bash (bash-only syntax works) with -e and pipefail', async () => {
        const out = await runStep({ run: 'if [[ -n "${BASH_VERSION}" ]]; then echo "bash $((6 * 7))"; fi' });
        expect(out).toMatchObject({ exit_code: 0, stdout: 'bash 42\n', stderr: '' });
        // pipefail: a failing stage fails the step even when the last stage succeeds; -e stops at the first failure.
        const err = await failure(runStep({ run: 'false | cat\necho not reached' }));
        expect(err.errorClass).toBe('exit:1');
        expect((err.output as Out)['stdout']).toBe('');
      });

      it('`shell` picks the interpreter for `run`', async () => {
        const out = await runStep({ run: 'echo "$0"', shell: 'sh' });
        expect(out['stdout']).toBe('sh\n');
        const dflt = await runStep({ run: 'echo "$0"' });
        expect(dflt['stdout']).toMatch(/(^|\/)bash\n$/);
      });

      it('runs in context.cwd with context.env plus the step env', async () => {
        const context = stepContext({ env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', FROM_CONTEXT: 'ctx' } });
        const out = await runStep({ run: 'pwd; echo "$FROM_CONTEXT $FROM_STEP ${HOME:-no-home}"', env: { FROM_STEP: 'step' } }, context);
        expect(out['stdout']).toBe(`${context.cwd}\nctx step no-home\n`);
      });

      it('an absolute `cwd` in the config wins over context.cwd', async () => {
        const context = stepContext();
        const sub = join(context.cwd, 'sub');
        mkdirSync(sub);
        const out = await runStep({ run: 'pwd', cwd: sub }, context);
        expect(out['stdout']).toBe(`${sub}\n`);
      });

      it('`command` runs argv without a shell: $(...) in an argument stays literal', async () => {
        const context = stepContext();
        const out = await runStep({ command: ['echo', '$(touch pwned)', '; touch pwned2', '`touch pwned3`'] }, context);
        expect(out['stdout']).toBe('$(touch pwned) ; touch pwned2 `touch pwned3`\n');
        expect(existsSync(join(context.cwd, 'pwned'))).toBe(false);
        expect(existsSync(join(context.cwd, 'pwned2'))).toBe(false);
        expect(existsSync(join(context.cwd, 'pwned3'))).toBe(false);
      });

      it('a program that cannot be started fails with exit:127', async () => {
        const err = await failure(runStep({ command: ['flow-no-such-program-xyz', 'arg'] }));
        expect(err.errorClass).toBe('exit:127');
        expect(err.message).toContain("cannot start 'flow-no-such-program-xyz'");
      });

      it('a missing working directory, or a PATH without the program, is a start failure that names it', async () => {
        const context = stepContext();
        const noDir = await failure(runStep({ command: ['true'], cwd: join(context.cwd, 'missing') }, context));
        expect(noDir.errorClass).toBe('exit:127');
        expect(noDir.message).toContain('no such working directory');
        const noPath = await failure(runStep({ command: ['true'], env: { PATH: context.cwd } }, context));
        expect(noPath.message).toBe("cannot start 'true': not found in PATH");
      });

      it("the program is searched in the step's PATH and relative to its cwd, and keeps the name it was given", async () => {
        const context = stepContext();
        mkdirSync(join(context.cwd, 'bin'));
        writeFileSync(join(context.cwd, 'bin', 'greet'), '#!/bin/sh\necho "hello from $0"\n', { mode: 0o755 });
        const viaPath = await runStep({ command: ['greet'], env: { PATH: `${join(context.cwd, 'bin')}:/usr/bin:/bin` } }, context);
        expect(viaPath['stdout']).toBe(`hello from ${join(context.cwd, 'bin', 'greet')}\n`);
        // The launchers hand exec an absolute path (as bash does) where execvp keeps the relative one: the script's
        // $0 differs only so.
        const relative = await runStep({ command: ['./bin/greet'] }, context);
        expect(relative['stdout']).toBe(
          mode === 'launcher' ? `hello from ${join(context.cwd, 'bin', 'greet')}\n` : 'hello from ./bin/greet\n',
        );
        writeFileSync(join(context.cwd, 'bin', 'plain'), 'not a program\n', { mode: 0o644 });
        const notExecutable = await failure(runStep({ command: ['./bin/plain'] }, context));
        expect(notExecutable.message).toBe("cannot start './bin/plain': no such executable file");
      });

      it('passes what it prints to emitOutput, by stream', async () => {
        const context = stepContext();
        await runStep({ run: 'echo to-out; echo to-err >&2' }, context);
        expect(
          context.emitted
            .filter((e) => e.stream === 'stdout')
            .map((e) => e.text)
            .join(''),
        ).toBe('to-out\n');
        expect(
          context.emitted
            .filter((e) => e.stream === 'stderr')
            .map((e) => e.text)
            .join(''),
        ).toBe('to-err\n');
      });
    });

    describe('shell executor: output', () => {
      it('stdout that is a JSON object or list is parsed into `json`', async () => {
        const obj = await runStep({ run: `echo '{"category": "invoice", "pages": [1, 2]}'` });
        expect(obj['json']).toEqual({ category: 'invoice', pages: [1, 2] });
        const list = await runStep({ run: `printf '  [1, "two"]\\n\\n'` });
        expect(list['json']).toEqual([1, 'two']);
        const text = await runStep({ run: 'echo 42' });
        expect(text).not.toHaveProperty('json');
        expect(text['stdout']).toBe('42\n');
      });

      it('$FLOW_OUTPUT name=value and heredoc lines become output keys', async () => {
        const out = await runStep({
          run: [
            'echo "greeting=hello world" >> "$FLOW_OUTPUT"',
            'echo "expr=a=b" >> "$FLOW_OUTPUT"',
            'printf \'notes<<EOF\\nline 1\\n\\nline 3\\nEOF\\n\' >> "$FLOW_OUTPUT"',
            'echo visible',
          ].join('\n'),
        });
        expect(out).toMatchObject({ greeting: 'hello world', expr: 'a=b', notes: 'line 1\n\nline 3', stdout: 'visible\n', exit_code: 0 });
      });

      it('reserved names written to $FLOW_OUTPUT do not overwrite exit_code, stdout, stderr or json', async () => {
        const out = await runStep({
          run: `printf 'stdout=hijacked\\nstderr=hijacked\\nexit_code=99\\njson=hijacked\\nkept=yes\\n' >> "$FLOW_OUTPUT"; echo '{"real": true}'`,
        });
        expect(out).toEqual({ exit_code: 0, stdout: '{"real": true}\n', stderr: '', json: { real: true }, kept: 'yes' });
      });

      it('$FLOW_OUTPUT is written by `command` steps too', async () => {
        const out = await runStep({ command: ['sh', '-c', 'echo "from_argv=1" > "$FLOW_OUTPUT"'] });
        expect(out['from_argv']).toBe('1');
      });

      it('a non-zero exit throws StepFailure exit:3 with the output and the last stderr line in the message', async () => {
        const err = await failure(
          runStep({ run: 'echo partial; echo "first problem" >&2; echo "the last words" >&2; echo "k=v" >> "$FLOW_OUTPUT"; exit 3' }),
        );
        expect(err.errorClass).toBe('exit:3');
        expect(err.message).toMatch(/exited with code 3: the last words$/);
        expect(err.output).toMatchObject({ exit_code: 3, stdout: 'partial\n', stderr: 'first problem\nthe last words\n', k: 'v' });
      });

      it(`output over ${MAX_CAPTURE_BYTES} bytes is truncated with a note saying how much was dropped`, async () => {
        const total = MAX_CAPTURE_BYTES + 51_424;
        const out = await runStep({ run: `head -c ${total} /dev/zero | tr '\\0' a` });
        const stdout = out['stdout'] as string;
        expect(stdout).toBe(`${'a'.repeat(MAX_CAPTURE_BYTES)}\n[flow: output truncated; 51424 more bytes not kept]`);
      });
    });

    describe('shell executor: values never reach the shell as script', () => {
      const hostile = '"; touch pwned; echo "';

      it('a hostile input in `run` is printed verbatim and not executed', async () => {
        const context = stepContext({ inputs: { x: hostile } });
        const raw = { run: 'echo "${{ inputs.x }}"' };
        const config = await shellExecutor.resolveConfig!(
          raw,
          (v) => resolveValue(v, { inputs: context.inputs }),
          (source) => evaluateExpression(source, { inputs: context.inputs }),
        );
        expect(config['run']).not.toContain('touch');
        const out = (await shellExecutor.execute(config, context)) as Out;
        expect(out['stdout']).toBe(`${hostile}\n`);
        expect(existsSync(join(context.cwd, 'pwned'))).toBe(false);
      });

      it('a hostile value in a variable bash gives a meaning (OPTIND is an integer, IFS splits) or one the launcher uses reaches the program verbatim', async () => {
        const context = stepContext();
        const value = 'a[$(touch pwned)]';
        const out = await runStep(
          { command: ['sh', '-c', 'pwd; printf "%s|%s" "$cwd" "$__flow_path"'], env: { cwd: '/', __flow_path: value } },
          context,
        );
        expect(out['stdout']).toBe(`${context.cwd}\n/|${value}`);
        for (const name of ['OPTIND', 'IFS']) {
          const seen = await runStep(
            { command: [process.execPath, '-e', `process.stdout.write(process.env.${name})`], env: { [name]: value } },
            context,
          );
          expect(seen['stdout']).toBe(value);
        }
        expect(existsSync(join(context.cwd, 'pwned'))).toBe(false);
      });

      it('the value also survives unquoted use and several expressions in one script', async () => {
        const context = stepContext();
        const out = await runStep({ run: "printf '[%s]' ${{ inputs.a }}; printf '<%s>' \"${{ inputs.b }}\"" }, context, {
          inputs: { a: '$(touch pwned)', b: "it's `id`" },
        });
        expect(out['stdout']).toBe("[$(touch][pwned)]<it's `id`>");
        expect(existsSync(join(context.cwd, 'pwned'))).toBe(false);
      });

      it('objects reach the script as JSON, null as the empty string', async () => {
        const out = await runStep({ run: 'echo "${{ inputs.o }}|${{ inputs.missing }}|"' }, stepContext(), {
          inputs: { o: { a: [1, 'x'] } },
        });
        expect(out['stdout']).toBe('{"a":[1,"x"]}||\n');
      });

      it('expressions in `env` are resolved; the step env is kept next to the FLOW_EXPR variables', async () => {
        const out = await runStep({ run: 'echo "$BODY / ${{ inputs.n }}"', env: { BODY: '${{ inputs.body }}' } }, stepContext(), {
          inputs: { body: 'a; rm -rf ~', n: 3 },
        });
        expect(out['stdout']).toBe('a; rm -rf ~ / 3\n');
      });
    });

    describe('shell executor: cancellation', () => {
      it('abort of context.signal kills the whole process group, grandchildren included', async () => {
        const context = stepContext();
        const pidFile = join(context.cwd, 'pid');
        const running = runStep({ run: 'sleep 30 & echo $! > pid; wait' }, context);
        let grandchild = 0;
        for (let i = 0; i < 500 && !grandchild; i++) {
          await sleep(10);
          if (existsSync(pidFile)) grandchild = Number(readFileSync(pidFile, 'utf8').trim()) || 0;
        }
        expect(grandchild).toBeGreaterThan(0);
        expect(isAlive(grandchild)).toBe(true);

        const reason = new StepFailure('cancelled', 'a sibling failed');
        context.controller.abort(reason);
        await expect(running).rejects.toBe(reason);

        for (let i = 0; i < 300 && isAlive(grandchild); i++) await sleep(10);
        expect(isAlive(grandchild)).toBe(false);
      }, 10_000);

      it('an already-aborted signal stops the command at once', async () => {
        const context = stepContext();
        context.controller.abort(new StepFailure('interrupted', 'SIGINT'));
        await expect(runStep({ run: 'echo started > marker; sleep 30' }, context)).rejects.toMatchObject({ errorClass: 'interrupted' });
      }, 10_000);
    });
  });
}

describe('directArgv: scripts that need no shell', () => {
  it.each<[string, string[] | undefined]>([
    ['true', ['true']],
    ['make -j4 all', ['make', '-j4', 'all']],
    ['  node   scripts/build.mjs  --verbose ', ['node', 'scripts/build.mjs', '--verbose']],
    ['FOO=1 make', undefined], // an assignment prefix needs a shell
    ['make --jobs=4', undefined],
    ['git commit -m x@y:z,w+1%', ['git', 'commit', '-m', 'x@y:z,w+1%']],
    ['echo $HOME', undefined],
    ['cd /tmp', undefined],
    ['exit 1', undefined],
    ['export A=1', undefined],
    ['a | b', undefined],
    ['a && b', undefined],
    ['a; b', undefined],
    ['echo "quoted"', undefined],
    ["echo 'single'", undefined],
    ['cat < in', undefined],
    ['echo hi > out', undefined],
    ['ls *.ts', undefined],
    ['echo ~', undefined],
    ['a\nb', undefined],
    ['sleep 30 &', undefined],
    ['', undefined],
    ['   ', undefined],
  ])('%j -> %j', (script, expected) => {
    expect(directArgv(script)).toEqual(expected);
  });
});

describe('shell executor: cwd', () => {
  it('resolves a relative cwd against the run directory, not the process directory', async () => {
    const context = stepContext();
    mkdirSync(join(context.cwd, 'sub'));
    const out = await runStep({ run: 'pwd', cwd: 'sub' }, context);
    expect(String(out['stdout']).trim()).toBe(join(context.cwd, 'sub'));
  });
});
