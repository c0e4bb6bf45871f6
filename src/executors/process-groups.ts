import { parseDuration } from '../language/durations.js';
import { UsageError } from '../model/errors.js';

// The process groups of the steps running now, so that a second Ctrl-C can kill them all at once before flow exits.
export const liveProcessGroups = new Set<number>();

/** Signals a whole process group; one that is already gone is not an error. */
export function killProcessGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export function killAllProcessGroups(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of liveProcessGroups) killProcessGroup(pid, signal);
}

/**
 * How long a stopped step's process group has between SIGTERM and SIGKILL: FLOW_KILL_GRACE (a duration), 2 s by
 * default. Steps that clean up on SIGTERM (a container to remove, a lock to release) may need longer.
 */
export function killGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const given = env['FLOW_KILL_GRACE'];
  if (given === undefined || given === '') return 2000;
  // Asked for by every shell step: parsed once per value.
  if (parsedGrace?.given === given) return parsedGrace.ms;
  const ms = parseDuration(given);
  if (ms === undefined)
    throw new UsageError(`FLOW_KILL_GRACE must be a duration, got '${given}'`, 'for example 2s (the default), 500ms or 1m');
  parsedGrace = { given, ms };
  return ms;
}

let parsedGrace: { given: string; ms: number } | undefined;
