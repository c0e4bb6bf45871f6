import { UnknownRunError } from '../model/errors.js';
import type { RunRecord } from '../model/run.js';
import type { RunHistory } from '../state/run-history.js';
import { openRunHistory } from '../state/open-history.js';
import { shownLocation, stateExists } from '../state/state-location.js';

// The history commands that look at one run: an unknown run (or no state file at all) is one error with a hint.
export async function withRecordedRun<T>(
  path: string,
  runId: string,
  use: (history: RunHistory, run: RunRecord) => T | Promise<T>,
): Promise<T> {
  if (!stateExists(path)) throw new UnknownRunError(runId, shownLocation(path));
  const history = await openRunHistory(path);
  try {
    const run = history.getRun(runId);
    if (!run) throw new UnknownRunError(runId, shownLocation(path));
    // Awaited: a command that follows a live run keeps the history open until it is done.
    return await use(history, run);
  } finally {
    history.close();
  }
}
