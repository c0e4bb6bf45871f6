import { dirname, resolve } from 'node:path';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import type { EventListener } from '../model/events.js';
import { ReportFileError } from '../model/errors.js';
import type { Workflow } from '../model/workflow.js';
import { chooseOutput, childColourEnv, type OutputChoice, type OutputFlags } from '../report/output-mode.js';
import { paletteFor } from '../report/palette.js';
// Imported, not loaded on demand: the plain display is the common case, and one chunk fewer starts faster.
import { plainReporter } from '../report/plain.js';
import type { ReportContext, Reporter } from '../report/reporter.js';
import { stepIndex } from '../report/step-index.js';
import type { CommandIO } from './io.js';

export interface ReportSetup {
  workflow: Workflow;
  /** The workflow file as given on the command line. */
  workflowFile: string;
  resumeCommand: string;
  /** The run's secret values as given, for reporters that must register them (GitHub's add-mask). */
  secrets: readonly string[];
}

/** The run's reporters, chosen once; the steps' processes get the same colour decision through `childEnv`. */
export interface Reporting {
  choice: OutputChoice;
  listeners: EventListener[];
  childEnv: Record<string, string | undefined>;
  close(): Promise<void>;
}

// Each reporter's module is loaded only when it is chosen: a plain run never loads ora or the renderer.
export async function openReporting(flags: OutputFlags, setup: ReportSetup, io: CommandIO): Promise<Reporting> {
  const env = io.env ?? {};
  const choice = chooseOutput(flags, env, io.terminal ?? { isTTY: false, colourDepth: 1 });
  const ctx: ReportContext = {
    index: stepIndex(setup.workflow),
    workflowFile: setup.workflowFile,
    resumeCommand: setup.resumeCommand,
    palette: await paletteFor(choice.colour),
    secrets: setup.secrets,
    verbose: choice.verbose,
    now: Date.now,
  };
  const reporters: Reporter[] = [];
  // Progress on stderr: one display.
  if (choice.display === 'live' && io.terminal) {
    const { liveReporter } = await import('../report/live/live-reporter.js');
    reporters.push(liveReporter(ctx, io.terminal.stream));
  } else if (choice.display === 'github') {
    const { githubReporter } = await import('../report/github.js');
    const options = {
      summaryFile: env['GITHUB_STEP_SUMMARY'],
      workspace: env['GITHUB_WORKSPACE'],
      cwd: io.cwd,
      // Only the runner hides ::add-mask:: lines; printed anywhere else they would show the secrets.
      addMasks: env['GITHUB_ACTIONS'] === 'true',
    };
    reporters.push(githubReporter(ctx, (line) => io.stderr(line), options));
  } else reporters.push(plainReporter(ctx, (line) => io.stderr(line)));
  // Machine-readable outputs, any number of them, beside the display.
  if (choice.json) {
    const { jsonReporter } = await import('../report/json.js');
    reporters.push(jsonReporter((line) => io.stdout(line)));
  }
  if (choice.junit) {
    const file = resolve(io.cwd, choice.junit);
    // Found out now, not after an hour of running: the report is written when the run ends.
    assertWritable(file);
    const { junitReporter } = await import('../report/junit.js');
    reporters.push(junitReporter(ctx, file));
  }
  return {
    choice,
    listeners: reporters.map((r) => r.listener),
    childEnv: childColourEnv(choice.colour),
    close: async () => {
      for (const r of reporters) await r.close();
    },
  };
}

function assertWritable(file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    accessSync(dirname(file), constants.W_OK);
    if (existsSync(file) && statSync(file).isDirectory()) throw new Error('it is a directory');
  } catch (err) {
    throw new ReportFileError(file, (err as Error).message);
  }
}
