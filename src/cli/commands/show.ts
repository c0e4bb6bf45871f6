import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { EXIT } from '../../model/errors.js';
import { showJson, showText } from '../../report/history.js';
import { type RunDetail, readRunDetail } from '../../report/step-views.js';
import type { RunHistory } from '../../state/run-history.js';
import type { CommandIO } from '../io.js';
import { withRecordedRun } from '../open-run.js';
import { statePath } from '../state-path.js';

export interface ShowOptions {
  json?: boolean;
  html?: boolean;
  state?: string;
}

// `flow show RUN_ID`: one run, its steps in the order of its workflow, and its child runs.
export async function showCommand(runId: string, options: ShowOptions, io: CommandIO): Promise<number> {
  return withRecordedRun(statePath(options.state, io), runId, async (history, run) => {
    const detail = readRunDetail(history, run);
    if (options.html) {
      io.stdout(await savedPage(history, detail));
      return EXIT.ok;
    }
    io.stdout(options.json ? JSON.stringify(showJson(detail), null, 2) : showText(detail));
    return EXIT.ok;
  });
}

/** The run as one page (report/saved-run.ts), with the dashboard built into dist/ui beside this chunk. */
async function savedPage(history: RunHistory, detail: RunDetail): Promise<string> {
  const [{ savedRunPage, lastOutput }, { validateSource }, { nodeHost }, { graphOf }] = await Promise.all([
    import('../../report/saved-run.js'),
    import('../../language/validate.js'),
    import('../../language/node-host.js'),
    import('../../report/plan-graph.js'),
  ]);
  const ui = fileURLToPath(new URL('./ui/assets/', import.meta.url));
  const [script, style] = await Promise.all([readFile(`${ui}app.js`, 'utf8'), readFile(`${ui}app.css`, 'utf8')]);
  const { run } = detail;
  const checked = await validateSource(run.workflowPath, run.definition, nodeHost, { path: run.workflowPath });
  const json = showJson(detail);
  const logs: Record<string, string> = {};
  for (const step of json.steps) {
    const text = history
      .logs(run.id, { step: step.id })
      .map((c) => c.text)
      .join('');
    if (text) logs[step.id] = lastOutput(text);
  }
  return savedRunPage({ run: json, graph: checked.workflow ? graphOf(checked.workflow) : null, logs }, { script, style });
}
