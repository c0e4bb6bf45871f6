import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from '../engine/node-crypto.js';
import { parseDuration } from '../language/durations.js';
import { UsageError } from '../model/errors.js';
import type { RunOwner } from '../model/run.js';

/** How long a driver holds its run without a word (FLOW_LEASE_TTL, a duration such as 15s); it renews every third of it. */
export const DEFAULT_LEASE_TTL_MS = 15_000;
/** The lease of a run recorded before leases had an end: its last heartbeat and a minute. */
export const LEGACY_LEASE_MS = 60_000;

export function leaseTtlMs(env: NodeJS.ProcessEnv = process.env): number {
  const given = env['FLOW_LEASE_TTL'];
  if (given === undefined || given === '') return DEFAULT_LEASE_TTL_MS;
  const ms = parseDuration(given);
  if (ms === undefined || ms < 300)
    throw new UsageError(`FLOW_LEASE_TTL must be a duration of at least 300ms, got '${given}'`, 'for example 15s (the default) or 1m');
  return ms;
}

export const heartbeatEveryMs = (): number => Math.max(100, Math.floor(leaseTtlMs() / 3));

/** This host as a run's owner names it: FLOW_HOST_ID where machines share a hostname (containers, CI runners). */
export const hostId = (): string => process.env['FLOW_HOST_ID'] || hostname();

let self: RunOwner | undefined;

// This process as a run's owner: one token per process, so its child runs share it.
export function currentOwner(): RunOwner {
  self ??= {
    host: hostId(),
    pid: process.pid,
    processStart: processStartTime(process.pid) ?? '',
    // Not the global Web Crypto, which loads more of Node (2-3 ms in a bare `node -e` on Node 26).
    token: randomBytes(12).toString('hex'),
  };
  return self;
}

/**
 * Whether the recorded owner may still be driving its run. Its lease must not have run out; on this host the
 * process itself answers too: gone, or a different process under a reused pid, is dead at once. Elsewhere only the
 * lease can tell.
 */
export function ownerAlive(owner: RunOwner, leaseUntil: number | undefined, now: number, localHost = hostId()): boolean {
  if (leaseUntil === undefined || now > leaseUntil) return false;
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

/** ownerAlive asked now: what a claim and the history commands ask of a recorded owner. */
export const aliveNow = (owner: RunOwner, leaseUntil: number | undefined): boolean => ownerAlive(owner, leaseUntil, Date.now());

export function describeOwner(owner: RunOwner): string {
  return `process ${owner.pid} on ${owner.host}`;
}
