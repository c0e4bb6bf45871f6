import { relative, resolve } from 'node:path';
import { EXIT } from '../model/errors.js';
import type { FlowEvent } from '../model/events.js';
import type { RunRecord } from '../model/run.js';
import { jsonReporter } from '../report/json.js';
import { noColour } from '../report/palette.js';
import type { Reporter } from '../report/reporter.js';
import { stepIndex } from '../report/step-index.js';
import type { RunStore } from '../state/run-store.js';
import { resumeCommand } from './drive-run.js';
import type { CommandIO } from './io.js';
import { keptModel } from './kept-model.js';
import type { DriverFlags } from './run-flags.js';

// `flow resume` of a run that already succeeded runs nothing, and still gives what a script or CI asked for: the
// outputs on stdout as a finished run printed them, the run-finished event with --json, the report with --junit.
export async function finishedRun(run: RunRecord, store: RunStore, statePath: string, flags: DriverFlags, io: CommandIO): Promise<number> {
  io.stderr(`flow: run ${run.id} already succeeded; nothing to do`);
  const durationMs = run.endedAt ? Date.parse(run.endedAt) - Date.parse(run.startedAt) : 0;
  const finished: FlowEvent = {
    type: 'run-finished',
    runId: run.id,
    status: run.status,
    durationMs,
    error: run.error,
    outputs: run.outputs,
    at: run.endedAt ?? run.startedAt,
  };
  if (flags.json) {
    jsonReporter((line) => io.stdout(line)).listener(finished);
  } else if (run.outputs && Object.keys(run.outputs).length > 0) io.stdout(JSON.stringify(run.outputs, null, 2));
  if (flags.junit) {
    // Every step as restored: the report of the run as it stands, with the groups of its kept model when there is one.
    const { junitReporter } = await import('../report/junit.js');
    const model = keptModel(store, run);
    const reporter: Reporter = junitReporter(
      {
        index: model ? stepIndex(model) : new Map(),
        workflowFile: relative(io.cwd, run.workflowPath) || run.workflowPath,
        resumeCommand: resumeCommand(run.id, statePath, io.cwd),
        palette: noColour,
        secrets: [],
        verbose: false,
        now: Date.now,
      },
      resolve(io.cwd, flags.junit),
    );
    reporter.listener({ type: 'run-started', run, resumed: true });
    for (const r of store.stepResults(run.id))
      reporter.listener({ type: 'step-restored', runId: run.id, stepId: r.stepId, item: r.item, result: r.result });
    reporter.listener(finished);
    await reporter.close();
  }
  return EXIT.ok;
}
