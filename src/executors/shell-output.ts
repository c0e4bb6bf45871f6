// Helpers of the shell executor that involve no process: bounded capture, $FLOW_OUTPUT parsing, script analysis.

export const MAX_CAPTURE_BYTES = 1024 * 1024;

/** Keeps the first MAX bytes of a stream and counts the rest, so a chatty step cannot fill memory or the state file. */
export class BoundedCapture {
  private chunks: string[] = [];
  private kept = 0;
  dropped = 0;

  constructor(private readonly limit = MAX_CAPTURE_BYTES) {}

  push(text: string): void {
    const bytes = Buffer.byteLength(text);
    const room = this.limit - this.kept;
    if (bytes <= room) {
      this.chunks.push(text);
      this.kept += bytes;
      return;
    }
    const part = room > 0 ? prefixWithin(text, room) : '';
    if (part) this.chunks.push(part);
    const partBytes = Buffer.byteLength(part);
    this.kept += partBytes;
    this.dropped += bytes - partBytes;
  }

  text(): string {
    const all = this.chunks.join('');
    return this.dropped > 0 ? `${all}\n[flow: output truncated; ${this.dropped} more bytes not kept]` : all;
  }
}

/** The longest prefix of `text` that fits in `bytes` of UTF-8 without cutting a character in two. */
function prefixWithin(text: string, bytes: number): string {
  const buffer = Buffer.from(text).subarray(0, bytes);
  let end = buffer.length;
  // Step back over a partial multi-byte sequence at the end.
  let i = end - 1;
  while (i >= 0 && (buffer[i]! & 0xc0) === 0x80) i--;
  if (i >= 0) {
    const lead = buffer[i]!;
    const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (i + size > end) end = i;
  }
  return buffer.subarray(0, end).toString('utf8');
}

/** `$FLOW_OUTPUT` lines, as GitHub's `$GITHUB_OUTPUT`: `name=value`, or `name<<EOF` ... `EOF` for many lines. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([A-Za-z_][A-Za-z0-9_-]*)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const body: string[] = [];
      while (++i < lines.length && lines[i] !== delimiter) body.push(lines[i]!);
      out[name!] = body.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** stdout as JSON when it is a JSON object or list, otherwise undefined. */
export function parseJsonOutput(stdout: string): unknown {
  const t = stdout.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

const SHELL_WORDS = new Set([
  '.',
  ':',
  'alias',
  'time',
  'bg',
  'break',
  'cd',
  'command',
  'continue',
  'eval',
  'exec',
  'exit',
  'export',
  'fg',
  'getopts',
  'hash',
  'jobs',
  'read',
  'readonly',
  'return',
  'set',
  'shift',
  'source',
  'times',
  'trap',
  'type',
  'ulimit',
  'umask',
  'unalias',
  'unset',
  'wait',
  'if',
  'then',
  'else',
  'fi',
  'for',
  'while',
  'until',
  'do',
  'done',
  'case',
  'esac',
  'function',
  'select',
  '!',
  '{',
  '}',
]);

/**
 * The argv of a script that needs no shell at all, as make runs such recipes: plain words only,
 * no quoting, expansion, redirection or shell builtin. Saves starting a shell per step.
 */
export function directArgv(script: string): string[] | undefined {
  const trimmed = script.trim();
  if (trimmed === '' || !/^[A-Za-z0-9_\-./,:@%+ ]+$/.test(trimmed)) return undefined;
  const words = trimmed.split(/ +/);
  if (SHELL_WORDS.has(words[0]!)) return undefined;
  return words;
}
