import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { RunOwner } from '../model/run.js';

/** How often a driver says it is alive, and how long without a word before another may take its run over. */
export const HEARTBEAT_MS = 5_000;
export const STALE_AFTER_MS = 60_000;

let self: RunOwner | undefined;

// This process as a run's owner: one token per process, so its child runs share it.
export function currentOwner(): RunOwner {
  self ??= {
    host: hostname(),
    pid: process.pid,
    processStart: processStartTime(process.pid) ?? '',
    token: randomBytes(12).toString('hex'),
  };
  return self;
}

/**
 * Whether the recorded owner may still be driving its run. On this host the process itself answers: gone, or a
 * different process under a reused pid, is dead at once. Elsewhere only the heartbeat can tell.
 */
export function ownerAlive(owner: RunOwner, heartbeatAt: number | undefined, now: number, localHost = hostname()): boolean {
  if (heartbeatAt === undefined || now - heartbeatAt > STALE_AFTER_MS) return false;
  if (owner.host !== localHost) return true;
  if (!pidExists(owner.pid)) return false;
  const start = processStartTime(owner.pid);
  return start === undefined || owner.processStart === '' || start === owner.processStart;
}

/** Field 22 of /proc/PID/stat: the start time in clock ticks since boot; undefined where there is no /proc. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function describeOwner(owner: RunOwner): string {
  return `process ${owner.pid} on ${owner.host}`;
}
