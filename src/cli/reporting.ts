import { dirname, resolve } from 'node:path';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import type { EventListener } from '../model/events.js';
import { ReportFileError } from '../model/errors.js';
import type { Workflow } from '../model/workflow.js';
import { chooseOutput, childColourEnv, type OutputChoice, type OutputFlags } from '../report/output-mode.js';
import { githubReporter } from '../report/github.js';
import { jsonReporter } from '../report/json.js';
import { paletteFor } from '../report/palette.js';
// Imported, not loaded on demand: the plain display is the common case, and one chunk fewer starts faster.
import { plainReporter } from '../report/plain.js';
import type { ReportContext, Reporter } from '../report/reporter.js';
import { stepIndex } from '../report/step-index.js';
import type { CommandIO } from './io.js';
import { makeDirectory } from '../model/make-directory.js';

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
  /** Finishes every reporter; false when one could not (it has said why). Never throws. */
  close(): Promise<boolean>;
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
  // The reporters built on a library (the live view on ora and log-update, JUnit on xmlbuilder2) load when chosen.
  // The others are small and come with the command: each part of flow's own code loaded lazily costs a run a module
  // file of its own, and one more for each set of code it shares with the command (0.25-0.6 ms a file).
  // Progress on stderr: one display.
  if (choice.display === 'live' && io.terminal) {
    const { liveReporter } = await import('../report/live/live-reporter.js');
    reporters.push(liveReporter(ctx, io.terminal.stream));
  } else if (choice.display === 'github') {
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
  if (choice.json) reporters.push(jsonReporter((line) => io.stdout(line)));
  if (choice.junit) {
    const { junitReporter } = await import('../report/junit.js');
    reporters.push(junitReporter(ctx, resolve(io.cwd, choice.junit)));
  }
  return {
    choice,
    listeners: reporters.map((r) => r.listener),
    childEnv: childColourEnv(choice.colour),
    // A report that cannot be written is said, and the others are still closed: it never hides how the run ended.
    close: async () => {
      let written = true;
      for (const r of reporters) {
        try {
          await r.close();
        } catch (err) {
          written = false;
          io.stderr(`flow: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return written;
    },
  };
}

/**
 * Refuses a report file that cannot be written, before anything is opened or claimed: found out now, not after an
 * hour of running, and not after a resume has taken over its run.
 */
export function checkReportFiles(flags: OutputFlags, cwd: string): void {
  if (flags.junit) assertWritable(resolve(cwd, flags.junit));
}

function assertWritable(file: string): void {
  try {
    makeDirectory(dirname(file));
    accessSync(dirname(file), constants.W_OK);
    if (existsSync(file) && statSync(file).isDirectory()) throw new Error('it is a directory');
  } catch (err) {
    throw new ReportFileError(file, (err as Error).message);
  }
}
