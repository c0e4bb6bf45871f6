import { EXIT } from '../../model/errors.js';
import { showJson, showText } from '../../report/history.js';
import { stepLayout } from '../../report/step-layout.js';
import type { RunDetail } from '../../report/step-views.js';
import type { CommandIO } from '../io.js';
import { withRecordedRun } from '../open-run.js';
import { statePath } from '../state-path.js';

export interface ShowOptions {
  json?: boolean;
  state?: string;
}

// `flow show RUN_ID`: one run, its steps in the order of its workflow, and its child runs.
export async function showCommand(runId: string, options: ShowOptions, io: CommandIO): Promise<number> {
  return withRecordedRun(statePath(options.state, io), runId, (history, run) => {
    const detail: RunDetail = {
      run,
      steps: history.steps(runId),
      layout: stepLayout(run.definition),
      children: history.childRuns(runId),
      spend: history.modelSpend(runId),
      attempts: history.stepAttempts(runId),
    };
    io.stdout(options.json ? JSON.stringify(showJson(detail), null, 2) : showText(detail));
    return EXIT.ok;
  });
}
