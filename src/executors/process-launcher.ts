import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

// Why a launcher: fork() of a node process costs 5-8 ms on a virtual machine (its page tables and the
// copy-on-write faults that follow), against 2-3 ms for a small shell. A long-lived bash started once
// per concurrent step does the fork and exec for flow; `set -m` gives every step a process group of its
// own, as `detached: true` does. The request carries the program's path, argv, cwd and the environment as
// data: its size, then lines read in one read(2) (`read -N`, counting bytes under LC_ALL=C), each value
// decoded by `printf -v VAR %b` and used quoted, so no workflow value is ever parsed as shell script.
const LAUNCHER_SCRIPT = [
  'set -m',
  'exec 4>&2 2>/dev/null',
  'sentinel=$1',
  'while IFS= read -r size; do',
  '  IFS= LC_ALL=C read -r -N "$size" request || break',
  '  cwd= path= unsets=() sets=() argv=()',
  '  while [[ $request ]]; do',
  '    line=${request%%$\'\\n\'*}; request=${request#*$\'\\n\'}',
  '    case $line in',
  '      C*) printf -v cwd %b "${line:1}" ;;',
  '      P*) printf -v path %b "${line:1}" ;;',
  '      U*) unsets+=("${line:1}") ;;',
  '      E*) printf -v v %b "${line:1}"; sets+=("$v") ;;',
  '      A*) printf -v v %b "${line:1}"; argv+=("$v") ;;',
  '    esac',
  '  done',
  '  (',
  '    unset -v "${unsets[@]}"',
  '    for kv in "${sets[@]}"; do export "$kv"; done',
  '    cd -- "$cwd" && exec -a "${argv[0]}" "$path" "${argv[@]:1}" 3>&- 4>&-',
  '  ) 2>&4 </dev/null &',
  '  pid=$!',
  '  echo "pid $pid" >&3',
  '  wait "$pid"; rc=$?',
  '  kill -KILL -- "-$pid"',
  '  printf \'%s\' "$sentinel"; printf \'%s\' "$sentinel" >&4',
  '  echo "exit $rc" >&3',
  'done',
].join('\n');

/** Requests past this size go through execa: the launcher splits its request into lines in quadratic time. */
const MAX_REQUEST_BYTES = 64 * 1024;
/** At most this many launchers live at once; steps beyond them start through execa. */
const MAX_LAUNCHERS = 16;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Names bash refuses to export, computes itself, or reads when it starts: a step whose environment
// sets one of them starts through execa, where the environment is passed as it is.
const BASH_OWN = /^(BASH\w*|SHELLOPTS|EUID|UID|PPID|GROUPS|FUNCNAME|DIRSTACK|RANDOM|SRANDOM|SECONDS|LINENO|HISTCMD|EPOCHSECONDS|EPOCHREALTIME|COMP_WORDBREAKS|ENV|POSIXLY_CORRECT)$/;
// bash changes these in its own environment (SHLVL counts up, `cd` sets OLDPWD): each step sets them again.
const RESET_EVERY_TIME = ['SHLVL', 'OLDPWD'];

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

const exportable = (name: string) => IDENTIFIER.test(name) && !BASH_OWN.test(name);
const encode = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** One bash process starting one step at a time. */
class Launcher {
  private readonly child: ChildProcess;
  private readonly stdin: Writable;
  private readonly control: Readable;
  private readonly sentinel = `\u0001flow-step-end-${randomBytes(12).toString('hex')}\u0002`;
  readonly base: Record<string, string>;
  private current: InFlight | undefined;
  dead = false;

  constructor(bash: string, env: NodeJS.ProcessEnv, private readonly onDead: (l: Launcher) => void) {
    this.base = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && exportable(e[0])));
    this.child = spawn(bash, ['--noprofile', '--norc', '-c', LAUNCHER_SCRIPT, 'flow-launcher', this.sentinel], {
      env: this.base,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.stdin = this.child.stdin!;
    this.control = this.child.stdio[3] as Readable;
    this.child.stdout!.setEncoding('utf8').on('data', (t: string) => this.current?.stdout.push(t));
    this.child.stderr!.setEncoding('utf8').on('data', (t: string) => this.current?.stderr.push(t));
    let pending = '';
    this.control.setEncoding('utf8').on('data', (t: string) => {
      pending += t;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        this.current?.message(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    this.child.on('error', () => this.die());
    this.child.on('exit', () => this.die());
    this.stdin.on('error', () => this.die());
    this.idle();
  }

  /** The request lines for `req`, or undefined when this launcher cannot start it exactly as given. */
  request(req: LaunchRequest): string | undefined {
    const lines = [`C${encode(req.cwd)}`, `P${encode(req.path)}`];
    for (const name of Object.keys(this.base)) if (!(name in req.env)) lines.push(`U${name}`);
    for (const [name, value] of Object.entries(req.env)) {
      if (this.base[name] === value && !RESET_EVERY_TIME.includes(name)) continue;
      if (!exportable(name)) return undefined;
      lines.push(`E${encode(`${name}=${value}`)}`);
    }
    for (const name of RESET_EVERY_TIME) if (!(name in req.env) && !(name in this.base)) lines.push(`U${name}`);
    for (const arg of [req.file, ...req.args]) lines.push(`A${encode(arg)}`);
    const body = lines.join('\n') + '\n';
    const size = Buffer.byteLength(body);
    return size > MAX_REQUEST_BYTES ? undefined : `${size}\n${body}`;
  }

  launch(text: string, req: LaunchRequest): Promise<LaunchedProcess> {
    this.busy();
    return new Promise((started, failed) => {
      const flight = new InFlight(this.sentinel, req, started, failed, () => {
        this.current = undefined;
        this.idle();
      });
      this.current = flight;
      this.stdin.write(text);
    });
  }

  private busy() {
    this.child.ref();
    (this.control as unknown as { ref?: () => void }).ref?.();
  }

  private idle() {
    // An idle launcher must not keep flow alive; it ends by itself when flow closes its stdin.
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr, this.control]) (s as unknown as { unref?: () => void }).unref?.();
  }

  private die() {
    if (this.dead) return;
    this.dead = true;
    this.current?.lost();
    this.current = undefined;
    this.onDead(this);
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
    private readonly finished: () => void,
  ) {
    this.stdout = new SentinelStream(sentinel, req.onStdout, () => this.settle());
    this.stderr = new SentinelStream(sentinel, req.onStderr, () => this.settle());
  }

  message(line: string) {
    const [kind, value] = line.split(' ');
    if (kind === 'pid') {
      this.pid = Number(value);
      this.started({ pid: this.pid, done: this.done });
    } else if (kind === 'exit') {
      this.exitCode = Number(value);
      this.settle();
    }
  }

  private settle() {
    if (this.exitCode === undefined || !this.stdout.ended || !this.stderr.ended) return;
    this.finished();
    this.resolveDone({ exitCode: this.exitCode });
  }

  lost() {
    const error = new Error('the process launcher ended unexpectedly');
    if (this.pid === undefined) this.failed(error);
    else this.rejectDone(error);
  }
}

/** Passes a stream's text on until the sentinel, holding back what may be the sentinel's beginning. */
class SentinelStream {
  private held = '';
  ended = false;

  constructor(
    private readonly sentinel: string,
    private readonly emit: (text: string) => void,
    private readonly onEnd: () => void,
  ) {}

  push(text: string) {
    let all = this.held + text;
    const at = all.indexOf(this.sentinel);
    if (at >= 0) {
      if (at > 0) this.emit(all.slice(0, at));
      this.held = '';
      this.ended = true;
      this.onEnd();
      return;
    }
    // Keep the longest tail that is a prefix of the sentinel; the sentinel's first character is \u0001.
    const start = all.lastIndexOf(this.sentinel[0]!, all.length - 1);
    const keep = start >= 0 && all.length - start < this.sentinel.length && this.sentinel.startsWith(all.slice(start)) ? all.length - start : 0;
    this.held = all.slice(all.length - keep);
    all = all.slice(0, all.length - keep);
    if (all) this.emit(all);
  }
}

let bashPath: string | null | undefined;
/** bash, unless FLOW_PROCESS_LAUNCHER=off asks for every process to start through execa. */
function findBash(): string | null {
  if (process.env['FLOW_PROCESS_LAUNCHER'] === 'off' || process.platform === 'win32') return null;
  bashPath ??= ['/bin/bash', '/usr/bin/bash'].find((p) => existsSync(p)) ?? null;
  return bashPath;
}

const idle: Launcher[] = [];
let live = 0;

/**
 * Starts a program through an idle launcher (starting one if fewer than MAX_LAUNCHERS live), or returns
 * undefined when no launcher can start it exactly as asked; the caller then starts it itself.
 */
export async function launch(req: LaunchRequest): Promise<LaunchedProcess | undefined> {
  const bash = findBash();
  if (!bash) return undefined;
  let launcher = idle.pop();
  if (!launcher) {
    if (live >= MAX_LAUNCHERS) return undefined;
    live++;
    launcher = new Launcher(bash, process.env, (dead) => {
      live--;
      const i = idle.indexOf(dead);
      if (i >= 0) idle.splice(i, 1);
    });
  }
  const text = launcher.request(req);
  if (text === undefined) {
    idle.push(launcher);
    return undefined;
  }
  const chosen = launcher;
  const started = await chosen.launch(text, req);
  return {
    pid: started.pid,
    done: started.done.finally(() => {
      if (!chosen.dead) idle.push(chosen);
    }),
  };
}

/** Ends the idle launchers (tests; flow itself lets them end with its stdin pipes). */
export function closeLaunchers(): void {
  for (const l of idle.splice(0)) l.close();
}
