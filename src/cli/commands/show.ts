import { existsSync } from 'node:fs';
import { EXIT, UnknownRunError } from '../../model/errors.js';
import { showJson, showText } from '../../report/history.js';
import { stepLayout } from '../../report/step-layout.js';
import type { RunDetail } from '../../report/step-views.js';
import { openSqliteHistory } from '../../state/sqlite-history.js';
import type { CommandIO } from '../io.js';
import { statePath } from '../state-path.js';

export interface ShowOptions {
  json?: boolean;
  state?: string;
}

// `flow show RUN_ID`: one run, its steps in the order of its workflow, and its child runs.
export async function showCommand(runId: string, options: ShowOptions, io: CommandIO): Promise<number> {
  const path = statePath(options.state, io);
  if (!existsSync(path)) throw new UnknownRunError(runId, path);
  const history = openSqliteHistory(path);
  try {
    const run = history.getRun(runId);
    if (!run) throw new UnknownRunError(runId, path);
    const detail: RunDetail = { run, steps: history.steps(runId), layout: stepLayout(run.definition), children: history.childRuns(runId) };
    io.stdout(options.json ? JSON.stringify(showJson(detail), null, 2) : showText(detail));
    return EXIT.ok;
  } finally {
    history.close();
  }
}
