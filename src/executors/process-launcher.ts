import type { ChildProcess } from 'node:child_process';
import { randomBytes } from '../engine/node-crypto.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { isExecutable } from './find-program.js';
import { encodeRequest, launcherEnvironment, LAUNCHER_SCRIPT, SentinelStream, UNSUPPORTED_EXIT } from './launcher-protocol.js';

// Why a launcher: fork() of a node process costs 5-8 ms on a virtual machine (its page tables and the
// copy-on-write faults that follow), against 2-4 ms for a small shell. A long-lived launcher started once per
// concurrent step does the fork and exec for flow, each program in a process group of its own, as
// `detached: true` does. The launcher is flow's own small program (native-launcher.c, built into dist/ when a C
// compiler is there: it vforks, about 1.5 ms less per program than bash's fork of a subshell), else bash. Both speak
// the protocol of launcher-protocol.ts, which has its safety rules.

/** At most this many launchers live at once; steps beyond them are started directly (spawn). */
const MAX_LAUNCHERS = 16;
/** How long after a miss the next launcher starts. */
const WARM_DELAY_MS = 50;
/** How long a step waits for its output's end after its exit code has come. */
const SENTINEL_GRACE_MS = 2000;
/** Spawn errors of a system short of something (descriptors, processes, memory): the launcher may start next time. */
const SHORT_OF = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'ENOMEM']);

export interface LaunchRequest {
  /** The program as the step names it: its argv[0]. */
  file: string;
  /** The program's file, found by findProgram: the launcher execs it without searching PATH. */
  path: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  onStdout(text: string): void;
  onStderr(text: string): void;
}

export interface LaunchedProcess {
  /** Also its process group's id; undefined when it could not start at all. */
  pid: number | undefined;
  /** The exit code (128 + n for signal n, as a shell reports it), or a reason the program could not start. */
  done: Promise<{ exitCode: number; startError?: string }>;
}

/**
 * A launcher that could not be started, or ended by itself before it said the program's pid: it started no program
 * (it cannot run here, or could make no process for it: native-launcher.c), so the step may be started directly.
 * One killed before it said the pid may have started the program: the step is then lost, never started twice.
 */
export class LauncherUnavailable extends Error {}

/** One launcher process starting one program at a time. */
class Launcher {
  private readonly child: ChildProcess;
  private readonly stdin: Writable;
  private readonly streams: Readable[];
  private readonly sentinel = `\u0001flow-step-end-${randomBytes(12).toString('hex')}\u0002`;
  readonly base: Record<string, string>;
  private current: InFlight | undefined;
  dead = false;

  constructor(
    readonly program: LauncherProgram,
    env: NodeJS.ProcessEnv,
    /** `cannotRun`: its program cannot run here at all (not there, not executable, too old a bash). */
    private readonly onDead: (l: Launcher, cannotRun: boolean) => void,
  ) {
    const { base, spawnEnv } = launcherEnvironment(env);
    this.base = base;
    // Taken when used, as in shell.ts: `flow validate` loads this module and starts no program.
    this.child = process.getBuiltinModule('node:child_process').spawn(program.file, program.args, {
      env: spawnEnv,
      stdio: ['pipe', 'pipe', 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    // First, so that a failed spawn (EMFILE, EAGAIN) is an event handled here, never an uncaught one.
    this.child.on('error', (err: NodeJS.ErrnoException) => this.die(true, !SHORT_OF.has(err.code ?? '')));
    const [stdin, stdout, , control, stderr] = (this.child.stdio ?? []) as unknown as (Readable & Writable)[];
    if (!stdin || !stdout || !control || !stderr) {
      // No pipes (EMFILE): the caller counts it out; the 'error' that follows must not do so again.
      this.dead = true;
      throw new Error('the process launcher could not be started');
    }
    this.stdin = stdin;
    this.streams = [stdout, control, stderr];
    stdout.setEncoding('utf8').on('data', (t: string) => (this.current ? this.current.output('stdout', t) : this.stray()));
    stderr.setEncoding('utf8').on('data', (t: string) => (this.current ? this.current.output('stderr', t) : this.stray()));
    let pending = '';
    control.setEncoding('utf8').on('data', (t: string) => {
      pending += t;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        this.current?.message(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    // Gone once it has exited and its control messages have all been read: an `exit N` still in the socket
    // when the process's exit is seen must reach its step first.
    let exited: number | null | undefined;
    let controlEnded = false;
    const gone = () => exited !== undefined && controlEnded && this.die(exited !== null, exited === UNSUPPORTED_EXIT);
    this.child.on('exit', (code) => {
      exited = code;
      gone();
    });
    const controlEnd = () => {
      controlEnded = true;
      gone();
    };
    control.on('end', controlEnd);
    control.on('error', controlEnd);
    this.stdin.on('error', () => {});
    // The sentinel goes through stdin, not argv, where every step could read it in /proc.
    this.stdin.write(`${this.sentinel}\n`);
    this.idle();
  }

  request(req: LaunchRequest): string | undefined {
    return encodeRequest({ cwd: req.cwd, path: req.path, argv: [req.file, ...req.args], env: req.env }, this.base);
  }

  launch(text: string, req: LaunchRequest): Promise<LaunchedProcess> {
    this.busy();
    return new Promise((started, failed) => {
      const flight = new InFlight(
        this.sentinel,
        req,
        started,
        failed,
        () => this.stray(),
        () => this.retire(false),
        () => {
          this.current = undefined;
          this.idle();
        },
      );
      this.current = flight;
      this.stdin.write(text);
    });
  }

  private busy() {
    this.child.ref();
    (this.streams[1] as unknown as { ref?: () => void }).ref?.();
  }

  private idle() {
    // An idle launcher must not keep flow alive; it ends by itself when flow closes its stdin.
    this.child.unref();
    for (const s of [this.stdin, ...this.streams]) (s as unknown as { unref?: () => void }).unref?.();
  }

  // Output from a process that left its step's group (a daemon that kept stdout): this launcher's streams
  // can no longer be told apart by step, so it takes no more; it finishes the step it runs, if any, and
  // ends when it reads the end of its input.
  private stray() {
    this.retire(false);
    this.close();
  }

  /** Takes this launcher out of use; it may still be finishing the step it runs. */
  retire(cannotRun: boolean) {
    if (this.dead) return;
    this.dead = true;
    this.onDead(this, cannotRun);
  }

  /** `startedNothing`: it was not started, or ended by itself, which it does only before a pid (LauncherUnavailable). */
  private die(startedNothing: boolean, cannotRun = false) {
    this.retire(cannotRun);
    this.current?.lost(startedNothing);
  }

  close() {
    this.stdin.end();
  }
}

/** One program's life in a launcher: its pid, its output up to the sentinel on each stream, its exit code. */
class InFlight {
  readonly stdout: SentinelStream;
  readonly stderr: SentinelStream;
  private pid: number | undefined;
  private exitCode: number | undefined;
  private settled = false;
  private grace: NodeJS.Timeout | undefined;
  // Output that came before the launcher said the program's pid (its pipes and the control socket are read apart):
  // given to the step only then, so that a step never sees output of a program whose pid flow does not know.
  private held: [SentinelStream, string][] | undefined = [];
  private resolveDone!: (r: { exitCode: number }) => void;
  private rejectDone!: (e: Error) => void;
  private readonly done = new Promise<{ exitCode: number }>((res, rej) => {
    this.resolveDone = res;
    this.rejectDone = rej;
  });

  constructor(
    sentinel: string,
    req: LaunchRequest,
    private readonly started: (p: LaunchedProcess) => void,
    private readonly failed: (e: Error) => void,
    private readonly onStray: () => void,
    private readonly onRetiring: () => void,
    private readonly finished: () => void,
  ) {
    this.stdout = new SentinelStream(sentinel, req.onStdout, () => this.settle(), onStray);
    this.stderr = new SentinelStream(sentinel, req.onStderr, () => this.settle(), onStray);
  }

  output(stream: 'stdout' | 'stderr', text: string) {
    const to = stream === 'stdout' ? this.stdout : this.stderr;
    if (this.held) this.held.push([to, text]);
    else to.push(text);
  }

  message(line: string) {
    const [kind, value] = line.split(' ');
    if (kind === 'pid') {
      this.pid = Number(value);
      this.started({ pid: this.pid, done: this.done });
      const held = this.held ?? [];
      this.held = undefined;
      for (const [to, text] of held) to.push(text);
    } else if (kind === 'exit') {
      // `exit N retire`: the launcher found its output non-blocking and ends after this step.
      if (line.endsWith(' retire')) this.onRetiring();
      this.exitCode = Number(value);
      this.settle();
      // The sentinels were written before `exit`; if one has not come (a write refused on a socket a program
      // left non-blocking), the step ends without it and this launcher is not used again.
      if (!this.settled) {
        this.grace = setTimeout(() => {
          this.onStray();
          this.settle(true);
        }, SENTINEL_GRACE_MS);
      }
    }
  }

  private settle(anyway = false) {
    if (this.settled || this.exitCode === undefined || (!anyway && (!this.stdout.ended || !this.stderr.ended))) return;
    this.settled = true;
    clearTimeout(this.grace);
    this.finished();
    this.resolveDone({ exitCode: this.exitCode });
  }

  lost(startedNothing: boolean) {
    if (this.settled) return;
    // Its exit code came: only the ends of its output may be missing, and they may still be on their way.
    if (this.exitCode !== undefined) {
      this.grace ??= setTimeout(() => this.settle(true), SENTINEL_GRACE_MS);
      return;
    }
    this.settled = true;
    clearTimeout(this.grace);
    if (this.pid === undefined && startedNothing) return this.failed(new LauncherUnavailable('the process launcher started nothing'));
    const error = new Error('the process launcher ended unexpectedly');
    if (this.pid === undefined) this.failed(error);
    else this.rejectDone(error);
  }
}

/** The program a launcher runs, and its arguments. */
interface LauncherProgram {
  file: string;
  args: string[];
}

// Beside the bundle (dist/), or, for the sources run as they are (tests), in the checkout's dist/.
const NATIVE = ['./flow-launcher', '../../dist/flow-launcher'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
let nativePath: string | null | undefined;
let bashPath: string | null | undefined;
// Launcher programs that could not run here (a bash older than 5.1, no /proc, no fd 3 or 4, a file gone or not
// executable): the next choice is used for the rest of the process.
const unusable = new Set<string>();

/**
 * Linux only: flow's native launcher where the build made it, else bash. FLOW_PROCESS_LAUNCHER=bash chooses bash,
 * and =off asks for every process to be started directly.
 */
function findLauncher(): LauncherProgram | null {
  const choice = process.env['FLOW_PROCESS_LAUNCHER'];
  if (choice === 'off' || process.platform !== 'linux') return null;
  if (choice !== 'bash') {
    nativePath ??= NATIVE.find(isExecutable) ?? null;
    if (nativePath && !unusable.has(nativePath)) return { file: nativePath, args: [] };
  }
  bashPath ??= ['/bin/bash', '/usr/bin/bash'].find((p) => existsSync(p)) ?? null;
  return bashPath && !unusable.has(bashPath)
    ? { file: bashPath, args: ['--noprofile', '--norc', '-c', LAUNCHER_SCRIPT, 'flow-launcher'] }
    : null;
}

const idle: Launcher[] = [];
let live = 0;

function startLauncher(program: LauncherProgram): Launcher | undefined {
  live++;
  try {
    return new Launcher(program, process.env, (dead, cannotRun) => {
      live--;
      const i = idle.indexOf(dead);
      if (i >= 0) idle.splice(i, 1);
      if (cannotRun) unusable.add(program.file);
    });
  } catch {
    live--;
    return undefined;
  }
}

/** An idle launcher running `program` (FLOW_PROCESS_LAUNCHER may have changed since others started). */
function takeIdle(program: LauncherProgram): Launcher | undefined {
  const i = idle.findLastIndex((l) => l.program.file === program.file);
  return i >= 0 ? idle.splice(i, 1)[0] : undefined;
}

let warming = false;

/**
 * Starts a program through an idle launcher, or returns undefined when none is idle or none can start it
 * exactly as asked; the caller then starts it itself. A program that finds no launcher alive (the first of a process)
 * starts one and goes through it: it costs the same fork of node as starting the program directly, and the next steps find it idle
 * (1,000 `true` steps: 20-100 ms less CPU than starting the first few directly while one warmed up). A miss while
 * every launcher is busy starts one more shortly after (up to MAX_LAUNCHERS): a wave of parallel steps would only
 * wait for launchers to start.
 */
export async function launch(req: LaunchRequest): Promise<LaunchedProcess | undefined> {
  const program = findLauncher();
  if (!program) return undefined;
  const launcher = takeIdle(program) ?? (live === 0 ? startLauncher(program) : undefined);
  if (!launcher) {
    if (!warming && live < MAX_LAUNCHERS) {
      warming = true;
      // Later, not at once: starting a launcher forks node, which blocks it for a few ms, and a wave of parallel steps is still
      // starting its processes now. Unref'd: a run that is over does not wait for it.
      setTimeout(() => {
        warming = false;
        warmLaunchers(live + 1);
      }, WARM_DELAY_MS).unref();
    }
    return undefined;
  }
  const text = launcher.request(req);
  if (text === undefined) {
    idle.push(launcher);
    return undefined;
  }
  const started = await launcher.launch(text, req);
  return {
    pid: started.pid,
    done: started.done.finally(() => {
      if (!launcher.dead) idle.push(launcher);
    }),
  };
}

/** Starts idle launchers until `count` live (at most MAX_LAUNCHERS). */
export function warmLaunchers(count: number): void {
  const program = findLauncher();
  while (program && live < Math.min(count, MAX_LAUNCHERS)) {
    const launcher = startLauncher(program);
    if (!launcher) return;
    idle.push(launcher);
  }
}

/** Ends the idle launchers (tests; flow itself lets them end with its stdin pipes). */
export function closeLaunchers(): void {
  for (const l of idle.splice(0)) l.close();
}
