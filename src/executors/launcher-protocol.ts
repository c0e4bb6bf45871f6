// What the process launcher speaks: its bash script, the request it reads, the names it can pass on exactly,
// and the splitting of its shared output streams at the end-of-step sentinel. No process here.

/**
 * fd 0: requests (the sentinel first); fd 1: the steps' stdout; fd 2: /dev/null; fd 3: control
 * (`pid N`, `exit N`, `exit N retire`); fd 4: the steps' stderr. Each request is its size in bytes, then lines that
 * `read -N` takes in one read(2) under LC_ALL=C: C cwd, P path, U name to unset, E name=value, A argv item,
 * each value decoded by `printf -v VAR %b` and only ever used quoted, so a value is never parsed as script.
 * The job cds first and copies its argv to the positional parameters before it exports anything, and
 * the launcher's own variables are all __flow_*, a prefix no request may use: a step's environment cannot
 * change what runs or where. `set -m` gives each job its own process group; a stopped job is waited
 * through. All jobs share the launcher's stdout and stderr sockets, so a program that leaves them non-blocking
 * (node does, when it is killed) would hand later jobs EAGAIN: after each job the launcher reads its own
 * O_NONBLOCK flags in /proc and, if either is set, ends once it has reported the job.
 */
export const LAUNCHER_SCRIPT = [
  '(( BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1) )) && [[ -e /proc/self/fd/4 ]] || exit 3',
  'set -m',
  'IFS= read -r __flow_sentinel || exit 0',
  '[[ -v __flow_env_BASH_ENV ]] && { export BASH_ENV=$__flow_env_BASH_ENV; unset -v __flow_env_BASH_ENV; }',
  'while IFS= read -r __flow_size; do',
  '  IFS= LC_ALL=C read -r -N "$__flow_size" __flow_request || break',
  '  __flow_cwd= __flow_path= __flow_unsets=() __flow_sets=() __flow_argv=()',
  '  while [[ $__flow_request ]]; do',
  "    __flow_line=${__flow_request%%$'\\n'*}; __flow_request=${__flow_request#*$'\\n'}",
  '    case $__flow_line in',
  '      C*) printf -v __flow_cwd %b "${__flow_line:1}" ;;',
  '      P*) printf -v __flow_path %b "${__flow_line:1}" ;;',
  '      U*) __flow_unsets+=("${__flow_line:1}") ;;',
  '      E*) printf -v __flow_v %b "${__flow_line:1}"; __flow_sets+=("$__flow_v") ;;',
  '      A*) printf -v __flow_v %b "${__flow_line:1}"; __flow_argv+=("$__flow_v") ;;',
  '    esac',
  '  done',
  '  (',
  '    cd -- "$__flow_cwd" || exit 1',
  '    set -- "$__flow_path" "${__flow_argv[@]}"',
  '    unset -v "${__flow_unsets[@]}"',
  '    for __flow_kv in "${__flow_sets[@]}"; do export "$__flow_kv"; done',
  '    exec -a "$2" -- "$1" "${@:3}" </dev/null 2>&4 3>&- 4>&-',
  '  ) &',
  '  __flow_pid=$!',
  '  echo "pid $__flow_pid" >&3',
  // A stopped job makes `wait` return 147-150 (bash 5.2's `wait -f` can spin forever on a job it has already
  // reaped, so it is not used): while the job lives, look again every 0.1 s (fd 3 never brings bash data, so
  // `read -t` is a sleep without a process). Once bash no longer knows the job, its last status stands.
  '  __flow_rc=',
  '  while :; do',
  '    wait "$__flow_pid"; __flow_w=$?',
  '    [[ $__flow_w == 127 && -n $__flow_rc ]] && break',
  '    __flow_rc=$__flow_w',
  '    (( __flow_rc < 147 || __flow_rc > 150 )) && break',
  '    [[ -e /proc/$__flow_pid ]] || continue',
  '    read -r -t 0.1 -u 3 __flow_x',
  '    [[ -e /proc/$PPID ]] || exit 0',
  '  done',
  '  kill -KILL -- "-$__flow_pid"',
  '  __flow_retire=',
  '  for __flow_fd in 1 4; do',
  '    IFS= read -r -d \'\' -N 64 __flow_info <"/proc/$BASHPID/fdinfo/$__flow_fd"',
  "    __flow_info=${__flow_info#*flags:}; __flow_info=${__flow_info%%$'\\n'*}",
  '    (( 8#${__flow_info//[[:space:]]/} & 04000 )) && __flow_retire=1',
  '  done',
  '  printf %s "$__flow_sentinel"; printf %s "$__flow_sentinel" >&4',
  '  echo "exit $__flow_rc${__flow_retire:+ retire}" >&3',
  '  [[ -z $__flow_retire ]] || exit 0',
  'done',
].join('\n');

/** The launcher's exit code when this bash cannot run it (older than 5.1, or no /proc). */
export const UNSUPPORTED_EXIT = 3;

/** Requests past this size are started directly: the launcher splits a request into lines in quadratic time. */
export const MAX_REQUEST_BYTES = 64 * 1024;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Names bash gives attributes or meaning of its own (readonly, integer: assigning OPTIND evaluates arithmetic,
// arrays, computed values, IFS): exported from the launcher they would not reach the program as given.
const BASH_SPECIAL =
  /^(BASH(?!_ENV$)\w*|SHELLOPTS|EUID|UID|PPID|GROUPS|FUNCNAME|DIRSTACK|RANDOM|SRANDOM|SECONDS|LINENO|HISTCMD|EPOCHSECONDS|EPOCHREALTIME|COMP_WORDBREAKS|IFS|OPTIND|OPTARG|OPTERR|PS4|PIPESTATUS|POSIXLY_CORRECT|__flow_\w*)$/;
/** bash changes these in its own environment (SHLVL counts up, `cd` sets OLDPWD): each job sets them again. */
export const RESET_EVERY_TIME = ['SHLVL', 'OLDPWD'];
/** Read by bash when it starts, so given to the launcher under another name and exported after. */
export const READ_AT_START = ['BASH_ENV'];

/** Whether the launcher can hand `name` to a program exactly as it is. */
export const passesThrough = (name: string) => IDENTIFIER.test(name) && !BASH_SPECIAL.test(name);

const encode = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

export interface JobRequest {
  cwd: string;
  /** The file to exec. */
  path: string;
  /** argv, from argv[0]. */
  argv: string[];
  env: Record<string, string>;
}

/**
 * The request text for `job` to a launcher whose environment is `base`, or undefined when the launcher cannot
 * start it exactly as given: a name bash treats as its own, a NUL (bash drops it), or a request over the limit.
 */
export function encodeRequest(job: JobRequest, base: Record<string, string>): string | undefined {
  const lines = [`C${encode(job.cwd)}`, `P${encode(job.path)}`];
  for (const name of Object.keys(base)) if (!(name in job.env)) lines.push(`U${name}`);
  for (const [name, value] of Object.entries(job.env)) {
    if (base[name] === value && !RESET_EVERY_TIME.includes(name)) continue;
    if (!passesThrough(name)) return undefined;
    lines.push(`E${encode(`${name}=${value}`)}`);
  }
  for (const name of RESET_EVERY_TIME) if (!(name in job.env) && !(name in base)) lines.push(`U${name}`);
  for (const arg of job.argv) lines.push(`A${encode(arg)}`);
  const body = `${lines.join('\n')}\n`;
  if (body.includes('\0')) return undefined;
  const size = Buffer.byteLength(body);
  return size > MAX_REQUEST_BYTES ? undefined : `${size}\n${body}`;
}

/** What a launcher started with `env` exports to its jobs, and the environment to start it with. */
export function launcherEnvironment(env: NodeJS.ProcessEnv): { base: Record<string, string>; spawnEnv: Record<string, string> } {
  const base: Record<string, string> = {};
  const spawnEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string' || !passesThrough(name)) continue;
    base[name] = value;
    spawnEnv[READ_AT_START.includes(name) ? `__flow_env_${name}` : name] = value;
  }
  return { base, spawnEnv };
}

/**
 * Passes one stream's text on until the sentinel, holding back what may be the sentinel's beginning.
 * Text after the sentinel, or while no step runs, is stray: written by a process that left its step's group.
 */
export class SentinelStream {
  private held = '';
  ended = false;

  constructor(
    private readonly sentinel: string,
    private readonly emit: (text: string) => void,
    private readonly onEnd: () => void,
    private readonly onStray: () => void,
  ) {}

  push(text: string) {
    if (this.ended) return this.onStray();
    let all = this.held + text;
    const at = all.indexOf(this.sentinel);
    if (at >= 0) {
      if (at > 0) this.emit(all.slice(0, at));
      this.held = '';
      this.ended = true;
      this.onEnd();
      if (at + this.sentinel.length < all.length) this.onStray();
      return;
    }
    // Keep the longest tail that is a prefix of the sentinel; the sentinel's first character is \u0001.
    const start = all.lastIndexOf(this.sentinel[0]!);
    const keep =
      start >= 0 && all.length - start < this.sentinel.length && this.sentinel.startsWith(all.slice(start)) ? all.length - start : 0;
    this.held = all.slice(all.length - keep);
    all = all.slice(0, all.length - keep);
    if (all) this.emit(all);
  }
}
