import { parseDuration } from '../../language/durations.js';
import { EXIT, UsageError } from '../../model/errors.js';
import type { RunStatus } from '../../model/run.js';
import { runJson, runsTable } from '../../report/run-list.js';
import { wholeNumber } from '../flags.js';
import type { CommandIO } from '../io.js';
import { statePath } from '../state-path.js';
import { openRunHistory } from '../../state/open-history.js';
import { shownLocation, stateExists } from '../../state/state-location.js';

/** How many runs `flow runs` lists as text unless --limit says otherwise; --json lists all. */
export const DEFAULT_LIMIT = 20;

export interface RunsOptions {
  status?: RunStatus;
  workflow?: string;
  limit?: string;
  json?: boolean;
  state?: string;
}

// `flow runs`: the recorded runs, newest first; a run whose driver is gone shows as interrupted, as resume finds it.
export async function runsCommand(options: RunsOptions, io: CommandIO): Promise<number> {
  const limit = options.limit === undefined ? (options.json ? undefined : DEFAULT_LIMIT) : wholeNumber('--limit', options.limit, 1);
  const path = statePath(options.state, io);
  // Asking must not create the state file.
  if (!stateExists(path)) {
    io.stdout(options.json ? '[]' : `no runs recorded (no state file at ${path})`);
    return EXIT.ok;
  }
  const history = await openRunHistory(path);
  try {
    const runs = history.listRuns({
      ...(options.status ? { status: options.status } : {}),
      ...(options.workflow !== undefined ? { workflow: options.workflow } : {}),
      ...(limit !== undefined ? { limit } : {}),
    });
    if (options.json) io.stdout(JSON.stringify(runs.map(runJson), null, 2));
    else if (runs.length === 0)
      io.stdout(options.status || options.workflow ? 'no runs match' : `no runs recorded in ${shownLocation(path)}`);
    else {
      io.stdout(runsTable(runs, Date.now()));
      if (runs.length === limit) io.stderr(`flow: the newest ${limit} runs; --limit N lists more`);
    }
    return EXIT.ok;
  } finally {
    history.close();
  }
}

export interface PruneOptions {
  olderThan: string;
  keep?: string;
  state?: string;
}

// `flow runs prune --older-than 30d`: forget old finished runs (never one a live process drives) and shrink the file.
export async function pruneCommand(options: PruneOptions, io: CommandIO): Promise<number> {
  const age = parseDuration(options.olderThan);
  if (age === undefined)
    throw new UsageError(`--older-than must be a duration, got '${options.olderThan}'`, 'a number with a unit: 12h, 30d, 1d12h');
  const keep = options.keep === undefined ? 0 : wholeNumber('--keep', options.keep, 0);
  const path = statePath(options.state, io);
  if (!stateExists(path)) {
    io.stdout(`removed 0 runs (no state file at ${path})`);
    return EXIT.ok;
  }
  const history = await openRunHistory(path);
  try {
    const { runs, bytesReclaimed } = history.prune({ endedBefore: Date.now() - age, keep });
    const space =
      bytesReclaimed === undefined ? 'the file was busy; its space is reclaimed by the next prune' : `reclaimed ${bytesReclaimed} bytes`;
    io.stdout(`removed ${runs} run${runs === 1 ? '' : 's'}; ${space}`);
    return EXIT.ok;
  } finally {
    history.close();
  }
}
