// The process groups of the steps running now, so that a second Ctrl-C can kill them all at once before flow exits.
export const liveProcessGroups = new Set<number>();

export function killAllProcessGroups(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of liveProcessGroups) {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  }
}
