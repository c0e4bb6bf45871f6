// Process timing helpers shared by the benchmarks: wall time of child processes, percentiles, peak RSS.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// Runs a command once and returns its wall time in ms; a non-zero exit throws, so a broken subject never looks fast.
export function timeOnce({ cmd, args, cwd }) {
  const start = process.hrtime.bigint();
  const res = spawnSync(cmd, args, { cwd, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.error) throw res.error;
  if (res.status !== 0) {
    const err = new Error(`${cmd} ${args.join(' ')} exited with ${res.status ?? res.signal}${rerunOutput({ cmd, args, cwd })}`);
    throw Object.assign(err, { status: res.status });
  }
  return ms;
}

// Reruns a failed command with its output captured, so the error says why (timed runs discard output).
function rerunOutput({ cmd, args, cwd }) {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
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

// Peak RSS in MB of one run via GNU time's %M (KB), or undefined when /usr/bin/time is not installed.
export function peakRssMb({ cmd, args, cwd }) {
  if (!existsSync('/usr/bin/time')) return undefined;
  const res = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (res.status !== 0) throw new Error(`peak RSS run of ${cmd} exited with ${res.status}: ${res.stderr}`);
  const kb = Number(res.stderr.trim().split('\n').at(-1));
  return Number.isFinite(kb) ? kb / 1024 : undefined;
}
