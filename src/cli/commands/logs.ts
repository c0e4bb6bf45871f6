import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT, UsageError } from '../../model/errors.js';
import { FollowedLogs, formatLogs } from '../../report/logs.js';
import { stepLayout } from '../../report/step-layout.js';
import type { LogChunk, LogQuery, RunHistory } from '../../state/run-history.js';
import { wholeNumber } from '../flags.js';
import type { CommandIO } from '../io.js';
import { withRecordedRun } from '../open-run.js';
import { statePath } from '../state-path.js';

export interface LogsOptions {
  attempt?: string;
  follow?: boolean;
  state?: string;
}

/** How often a follower asks whether another process committed (PRAGMA data_version: no query of the tables). */
export const FOLLOW_POLL_MS = 50;

// `flow logs RUN_ID [STEP]`: the output a run's steps wrote, as stored (already masked), in the order it came.
export async function logsCommand(runId: string, step: string | undefined, options: LogsOptions, io: CommandIO): Promise<number> {
  const attempt = options.attempt === undefined ? undefined : wholeNumber('--attempt', options.attempt, 1);
  return withRecordedRun(statePath(options.state, io), runId, async (history, run) => {
    const query: LogQuery = { ...(step !== undefined ? { step } : {}), ...(attempt !== undefined ? { attempt } : {}) };
    if (step !== undefined && !history.hasStep(runId, step)) {
      // A step of the workflow that the run never reached has simply no output; a name the workflow lacks is a mistake.
      const id = step.replace(/\[\d+\]$/, '');
      if (!stepLayout(run.definition).some((p) => p.id === id))
        throw new UsageError(`run ${runId} has no step '${step}'`, `flow show ${runId} lists its steps`);
      if (!options.follow || run.status !== 'running') {
        io.stderr(`flow: step '${step}' has not run in run ${runId}`);
        return EXIT.ok;
      }
    }
    if (options.follow) {
      await follow(history, runId, query, io);
      return EXIT.ok;
    }
    const chunks = history.logs(runId, query);
    if (chunks.length === 0) {
      const what = `${step === undefined ? `run ${runId}` : `step '${step}'`}${attempt === undefined ? '' : ` (attempt ${attempt})`}`;
      io.stderr(`flow: no output recorded for ${what}`);
    } else io.stdout(formatLogs(chunks));
    return EXIT.ok;
  });
}

/**
 * Prints what is recorded, then what another process commits, until the run is no longer running (it ended, or its
 * driver is gone). The file is read again only when SQLite says another connection committed to it.
 */
async function follow(history: RunHistory, runId: string, query: LogQuery, io: CommandIO): Promise<void> {
  const followed = new FollowedLogs();
  const read = new Map<string, number>();
  const print = (chunks: readonly LogChunk[]) => {
    for (const c of chunks) read.set(c.runId, Math.max(read.get(c.runId) ?? 0, c.eventSeq));
    const lines = followed.lines(chunks);
    if (lines.length > 0) io.stdout(lines.join('\n'));
  };
  print(history.logs(runId, query));
  let seen = history.changeCounter();
  for (;;) {
    if (history.getRun(runId)?.status !== 'running') {
      print(history.logsSince(runId, query, read));
      return;
    }
    await sleep(FOLLOW_POLL_MS);
    const now = history.changeCounter();
    if (now === seen) continue;
    seen = now;
    print(history.logsSince(runId, query, read));
  }
}
