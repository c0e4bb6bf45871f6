// Process timing helpers shared by the benchmarks: wall time of child processes, percentiles, peak RSS.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Runs a command once and returns its wall time in ms; a non-zero exit throws, so a broken subject never looks fast.
// `env` (optional) replaces this process's environment for the child.
export function timeOnce({ cmd, args, cwd, env }) {
  const start = process.hrtime.bigint();
  const res = spawnSync(cmd, args, { cwd, env, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.error) throw res.error;
  if (res.status !== 0) {
    const err = new Error(`${cmd} ${args.join(' ')} exited with ${res.status ?? res.signal}${rerunOutput({ cmd, args, cwd, env })}`);
    throw Object.assign(err, { status: res.status });
  }
  return ms;
}

// Reruns a failed command with its output captured, so the error says why (timed runs discard output).
function rerunOutput({ cmd, args, cwd, env }) {
  const res = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim();
  return out ? `; a rerun printed:\n${out}` : '';
}

// Alternates baseline and subject (b, s, b, s, ...) so both see the same machine state; warm-ups are discarded.
// A pair whose failure `transient(err)` accepts (e.g. a concurrent rebuild) is retried after a pause, at most 5 times.
export function alternate(baseline, subject, { runs, warmups = 3, transient = () => false, log = () => {} }) {
  const samples = { baseline: [], subject: [], retries: 0 };
  for (let i = 0; i < warmups + runs; i++) {
    let pair;
    while (!pair) {
      try {
        pair = [timeOnce(baseline), timeOnce(subject)];
      } catch (err) {
        if (!transient(err) || samples.retries >= 5) throw err;
        samples.retries++;
        log(`  retrying a run after a transient failure: ${err.message.split('\n')[0]}`);
        sleep(3000);
      }
    }
    if (i >= warmups) {
      samples.baseline.push(pair[0]);
      samples.subject.push(pair[1]);
    }
  }
  return samples;
}

// Runs each of several commands once per round, in the same order every round, and returns each one's samples by key
// (warm-up rounds discarded): more than two alternatives then share the machine's state as alternate() makes two share it.
// `measure` takes a command and returns its sample (timeOnce by default; e.g. timeWithCpu).
export function roundRobin(commands, { rounds, warmups = 3, measure = timeOnce }) {
  const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let i = 0; i < warmups + rounds; i++) {
    for (const [key, command] of Object.entries(commands)) {
      const sample = measure(command);
      if (i >= warmups) samples[key].push(sample);
    }
  }
  return samples;
}

// Runs a command under GNU time and returns its wall ms, the user+system CPU ms of the whole tree it waited for
// (children included) and its peak RSS in MB. GNU time writes to a file (-o): the command's own stderr stays out of it.
export function timeWithCpu({ cmd, args, cwd, env }) {
  const out = join(tmpdir(), `flow-bench-time-${process.pid}.txt`);
  try {
    const ms = timeOnce({ cmd: '/usr/bin/time', args: ['-o', out, '-f', '%U %S %M', cmd, ...args], cwd, env });
    const [user, sys, kb] = readFileSync(out, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
    return { ms, cpuMs: (user + sys) * 1000, rssMb: kb / 1024 };
  } finally {
    rmSync(out, { force: true });
  }
}

// Blocks the (single-purpose) benchmark process for ms milliseconds without busy-waiting.
export function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Nearest-rank percentile (p in 0..100), the usual definition for small benchmark samples.
export function percentile(samples, p) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// Median as the 50th percentile, named for readability at call sites.
export const median = (samples) => percentile(samples, 50);

// Peak RSS in MB of one run via GNU time's %M (KB), or undefined when /usr/bin/time is not installed. GNU time writes
// to a file (-o), so a command that prints much on stderr neither overflows a pipe nor hides the figure.
export function peakRssMb({ cmd, args, cwd, env }) {
  if (!existsSync('/usr/bin/time')) return undefined;
  const out = join(tmpdir(), `flow-bench-rss-${process.pid}.txt`);
  try {
    const res = spawnSync('/usr/bin/time', ['-o', out, '-f', '%M', cmd, ...args], { cwd, env, stdio: 'ignore' });
    if (res.status !== 0) throw new Error(`peak RSS run of ${cmd} exited with ${res.status}${rerunOutput({ cmd, args, cwd, env })}`);
    const kb = Number(readFileSync(out, 'utf8').trim().split('\n').at(-1));
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } finally {
    rmSync(out, { force: true });
  }
}
