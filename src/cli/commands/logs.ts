import { EXIT, UsageError } from '../../model/errors.js';
import { formatLogs } from '../../report/logs.js';
import { stepLayout } from '../../report/step-layout.js';
import { wholeNumber } from '../flags.js';
import type { CommandIO } from '../io.js';
import { withRecordedRun } from '../open-run.js';
import { statePath } from '../state-path.js';

export interface LogsOptions {
  attempt?: string;
  state?: string;
}

// `flow logs RUN_ID [STEP]`: the output a run's steps wrote, as stored (already masked), in the order it came.
export async function logsCommand(runId: string, step: string | undefined, options: LogsOptions, io: CommandIO): Promise<number> {
  const attempt = options.attempt === undefined ? undefined : wholeNumber('--attempt', options.attempt, 1);
  return withRecordedRun(statePath(options.state, io), runId, (history, run) => {
    if (step !== undefined && !history.hasStep(runId, step)) {
      // A step of the workflow that the run never reached has simply no output; a name the workflow lacks is a mistake.
      const id = step.replace(/\[\d+\]$/, '');
      if (!stepLayout(run.definition).some((p) => p.id === id))
        throw new UsageError(`run ${runId} has no step '${step}'`, `flow show ${runId} lists its steps`);
      io.stderr(`flow: step '${step}' has not run in run ${runId}`);
      return EXIT.ok;
    }
    const chunks = history.logs(runId, { ...(step !== undefined ? { step } : {}), ...(attempt !== undefined ? { attempt } : {}) });
    if (chunks.length === 0) {
      const what = `${step === undefined ? `run ${runId}` : `step '${step}'`}${attempt === undefined ? '' : ` (attempt ${attempt})`}`;
      io.stderr(`flow: no output recorded for ${what}`);
    } else io.stdout(formatLogs(chunks));
    return EXIT.ok;
  });
}
