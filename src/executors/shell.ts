import { existsSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, readFile, unlink } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StepFailure } from '../engine/step-failure.js';
import { parseTemplate } from '../language/expressions/template.js';
import { orExpression, ref, strictObject } from '../language/schema/json-schema.js';
import type { Executor } from './executor.js';
import { BoundedCapture, directArgv, parseJsonOutput, parseOutputFile } from './shell-output.js';
import { killGraceMs, killProcessGroup, liveProcessGroups } from './process-groups.js';
import { findProgram, isDirectory } from './find-program.js';
import { launch, type LaunchedProcess, LauncherUnavailable, type LaunchRequest } from './process-launcher.js';
import { renderText, renderValues } from '../engine/expressions.js';
import { setLimit } from '../engine/timers.js';

const RESERVED = new Set(['exit_code', 'stdout', 'stderr', 'json']);

export const shellExecutor: Executor = {
  type: 'shell',
  aliases: ['process'],
  summary: 'Runs `run` (a script) or `command` (an argv list); workflow values reach it only through the environment.',
  configRequired: true,
  configSchema: strictObject(
    {
      run: {
        type: 'string',
        description: 'Script text, run by `shell`. A ${{ }} here is passed as an environment variable, never as script text.',
      },
      command: orExpression({
        type: 'array',
        minItems: 1,
        items: { type: 'string' },
        description: 'Program and arguments, run without a shell.',
      }),
      cwd: { type: 'string' },
      env: ref('env'),
      shell: { type: 'string', description: 'Shell for `run`: bash, sh, or a path. Default: bash when present, else sh.' },
    },
    { oneOf: [{ required: ['run'] }, { required: ['command'] }] },
  ),

  // Each ${{ }} in `run` becomes "${FLOW_EXPR_n}" and its value travels in the environment:
  // the shell expands a variable's value but never parses it as script.
  async resolveConfig(raw, resolve, evaluate) {
    const { run, ...rest } = raw;
    const config = (await resolve(rest)) as Record<string, unknown>;
    if (typeof run !== 'string') return config;
    const env: Record<string, string> = { ...((config['env'] as Record<string, string>) ?? {}) };
    let script = '';
    let n = 0;
    for (const part of parseTemplate(run).parts) {
      if (part.kind === 'text') script += part.text;
      else {
        const name = `FLOW_EXPR_${++n}`;
        const value = await evaluate(part.source);
        env[name] = renderText(value);
        script += `\${${name}}`;
      }
    }
    return { ...config, run: script, env };
  },

  async execute(config, context) {
    // Unique per call: one fallback may stand in for two steps at once.
    const outputFile = join(await outputDirectory(), `${context.stepId}-${context.item}-${context.attempt}-${++outputFiles}`);
    // Set once the file has been read and removed, or found absent: the cleanup below need not look again.
    let outputTaken = false;
    try {
      const grace = killGraceMs();
      const [file, ...args] = argvOf(config);
      const stdout = new BoundedCapture();
      const stderr = new BoundedCapture();
      const cwd = typeof config['cwd'] === 'string' ? resolve(context.cwd, config['cwd']) : context.cwd;
      const env: Record<string, string> = { ...context.env, ...renderValues(config['env']), FLOW_OUTPUT: outputFile };
      if (!isDirectory(cwd)) throw new StepFailure('exit:127', `cannot start '${file}': no such working directory ${cwd}`);
      const path = findProgram(file!, env['PATH'], cwd);
      if (path === undefined)
        throw new StepFailure(
          'exit:127',
          `cannot start '${file}': ${file!.includes('/') ? 'no such executable file' : 'not found in PATH'}`,
        );
      const request: LaunchRequest = {
        file: file!,
        path,
        args,
        cwd,
        env,
        onStdout: (chunk) => {
          stdout.push(chunk);
          context.emitOutput('stdout', chunk);
        },
        onStderr: (chunk) => {
          stderr.push(chunk);
          context.emitOutput('stderr', chunk);
        },
      };
      const lostStep = (lost: unknown) =>
        new StepFailure('error', `${describe(config)} was lost: ${lost instanceof Error ? lost.message : String(lost)}`);
      // Started directly when no launcher can take it; a launcher that took it and ended leaves the step lost, as the
      // program may be running: never started twice.
      const launched = await launch(request).catch((lost: unknown) => {
        if (lost instanceof LauncherUnavailable) return undefined;
        throw lostStep(lost);
      });
      const child = launched ?? startDirectly(request);
      const stopKilling = killGroupOnAbort(child.pid, context.signal, grace);
      // Once the program has ended, both paths have already killed what it left in its group.
      const { exitCode, startError } = await child.done.then(
        (ended) => {
          stopKilling(false);
          return ended;
        },
        (lost: unknown) => {
          stopKilling(true);
          throw lostStep(lost);
        },
      );
      // Only a direct start reports one: the program was found a moment ago, so this is a race or a refused exec.
      if (startError !== undefined && !context.signal.aborted) {
        throw new StepFailure('exit:127', `cannot start '${file}': ${startError}`);
      }
      const output: Record<string, unknown> = { exit_code: exitCode, stdout: stdout.text(), stderr: stderr.text() };
      const json = parseJsonOutput(output['stdout'] as string);
      if (json !== undefined) output['json'] = json;
      // Most steps never write $FLOW_OUTPUT: a stat that returns undefined is cheaper than a failed open.
      if (statSync(outputFile, { throwIfNoEntry: false })) {
        const written = parseOutputFile(await readFile(outputFile, 'utf8'));
        await unlink(outputFile).catch(() => {});
        for (const [k, v] of Object.entries(written)) if (!RESERVED.has(k)) output[k] = v;
      }
      outputTaken = true;
      if (context.signal.aborted) throw context.signal.reason ?? new StepFailure('cancelled', 'cancelled');
      if (exitCode !== 0) {
        const signal = exitCode > 128 ? signalName(exitCode - 128) : undefined;
        const why = signal ? `was killed by ${signal} (exit code ${exitCode})` : `exited with code ${exitCode}`;
        throw new StepFailure(`exit:${exitCode}`, `${describe(config)} ${why}${lastLine(stderr.text())}`, output);
      }
      return output;
    } finally {
      if (!outputTaken && statSync(outputFile, { throwIfNoEntry: false })) await unlink(outputFile).catch(() => {});
    }
  },
};

let outputFiles = 0;

/**
 * The same contract as a launcher's process, started by Node itself: for a step no launcher can start exactly (none
 * idle yet, a request too large, FLOW_PROCESS_LAUNCHER=off). Plain spawn, detached so that the step's processes form a
 * group of their own; the program was found by findProgram, and argv[0] stays as the step names it.
 */
function startDirectly(req: LaunchRequest): LaunchedProcess {
  // Node's module taken when used: `flow validate` loads the executors for their config schemas, and child_process
  // (with net and dgram) costs it milliseconds.
  const child = process.getBuiltinModule('node:child_process').spawn(req.path, req.args, {
    argv0: req.file,
    cwd: req.cwd,
    env: req.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.setEncoding('utf8').on('data', req.onStdout);
  child.stderr?.setEncoding('utf8').on('data', req.onStderr);
  const pid = child.pid;
  // When the step's own process ends, what it left in its group goes too: a background job holding
  // stdout open would otherwise keep the step waiting.
  if (pid !== undefined) child.once('exit', () => killProcessGroup(pid, 'SIGKILL'));
  const done = new Promise<{ exitCode: number; startError?: string }>((resolve) => {
    child.once('error', (err) => resolve({ exitCode: 127, startError: err.message }));
    child.once('close', (code, signal) =>
      resolve(code !== null ? { exitCode: code } : { exitCode: 128 + (signal ? (constants.signals[signal] ?? 0) : 0) }),
    );
  });
  return { pid, done };
}

function signalName(n: number): string | undefined {
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0];
}

// One private directory per flow process for the steps' $FLOW_OUTPUT files, removed when the process exits.
let outputDir: Promise<string> | undefined;
function outputDirectory(): Promise<string> {
  outputDir ??= mkdtemp(join(tmpdir(), 'flow-output-')).then((dir) => {
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  });
  return outputDir;
}

function argvOf(config: Record<string, unknown>): string[] {
  if (Array.isArray(config['command'])) return config['command'].map(renderText);
  const script = String(config['run']);
  const shell = typeof config['shell'] === 'string' ? config['shell'] : defaultShell();
  if (config['shell'] === undefined) {
    const direct = directArgv(script);
    if (direct) return direct;
  }
  return /(^|\/)bash$/.test(shell) ? [shell, '--noprofile', '--norc', '-eo', 'pipefail', '-c', script] : [shell, '-ec', script];
}

let cachedShell: string | undefined;
function defaultShell(): string {
  cachedShell ??= ['/bin/bash', '/usr/bin/bash'].find((p) => existsSync(p)) ?? '/bin/sh';
  return cachedShell;
}

/** Kills the step's whole process group on abort: TERM, then KILL after a grace period. */
function killGroupOnAbort(pid: number | undefined, signal: AbortSignal, graceMs: number): (killGroupNow: boolean) => void {
  if (pid === undefined) return () => {};
  liveProcessGroups.add(pid);
  let timer: NodeJS.Timeout | undefined;
  const kill = (sig: NodeJS.Signals) => killProcessGroup(pid, sig);
  const onAbort = () => {
    kill('SIGTERM');
    // A grace past setTimeout's range (24.8 days) is no KILL at all, as for a step's timeout.
    timer = setLimit(() => kill('SIGKILL'), graceMs);
    timer?.unref();
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return (killGroupNow) => {
    signal.removeEventListener('abort', onAbort);
    if (timer) clearTimeout(timer);
    if (killGroupNow) kill('SIGKILL');
    liveProcessGroups.delete(pid);
  };
}

function describe(config: Record<string, unknown>): string {
  if (Array.isArray(config['command'])) return `'${config['command'].join(' ')}'`;
  const script = String(config['run']).trim().split('\n')[0] ?? '';
  return `'${script.length > 60 ? `${script.slice(0, 57)}...` : script}'`;
}

function lastLine(stderr: string): string {
  const line = stderr.trim().split('\n').pop()?.trim();
  return line ? `: ${line.slice(0, 200)}` : '';
}
