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
