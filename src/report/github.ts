import { randomBytes } from '../engine/node-crypto.js';
import { appendFileSync, existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { secretForms } from '../engine/masking.js';
import { dispatch, type EventOf, type EventListener } from '../model/events.js';
import type { StepError } from '../model/run.js';
import type { SourceLocation } from '../model/workflow.js';
import { duration, stepLabel } from './format.js';
import { addMask, annotation, endGroup, group, resumeCommands, stopCommands } from './github-commands.js';
import type { LineSink, ReportContext, Reporter } from './reporter.js';
import { lastLines, OUTPUT_KEPT, RunTally, type StepTally } from './run-tally.js';
import { stepInfo } from './step-index.js';
import { isFailure, summaryLines } from './summary.js';

export interface GithubOptions {
  /** GITHUB_STEP_SUMMARY: the Markdown file the job's summary page shows; appended to, never overwritten. */
  summaryFile: string | undefined;
  /** GITHUB_WORKSPACE: annotations name files relative to it, as the run's page and diffs do. */
  workspace: string | undefined;
  cwd: string;
  /**
   * Whether to print `::add-mask::<secret>`: only where the Actions runner reads it (and hides the line). Anywhere
   * else, e.g. `--reporter github` in a terminal or another CI, the line would show the secret itself.
   */
  addMasks: boolean;
  /** The stop-commands token; fixed in golden tests, otherwise fresh and unguessable for each run. */
  stopToken?: string;
}

/** Lines of a failed step's output quoted in its annotation. */
const ANNOTATED_LINES = 10;
/** Values shorter than this are not masked (as SecretMasker does): they would mask noise. */
const MIN_SECRET = 3;
const RESTORED_LISTED = 10;

interface StepOutput {
  text: string;
  /** Characters dropped from the front to keep the buffer at OUTPUT_KEPT. */
  dropped: number;
  attempt: number;
  /** Where the last attempt's output starts in `text`: an annotation quotes only that attempt. */
  attemptStart: number;
}

// The plain view with workflow commands for the Actions runner. All lines go to stderr: the runner reads commands
// from stdout and stderr alike, and stdout stays the run's outputs (or NDJSON), which a job may pipe into a file.
// Groups cannot nest or interleave, and parallel steps' output does: each step's output is buffered and printed as
// one group when the step finishes, its status line last inside the group. A step that printed nothing gets just
// its status line: an empty group would only be a click that shows nothing.
// Retries are plain lines, not ::warning: annotations are capped per step and a retry that then succeeds is no
// problem to flag; the summary table's Attempts column shows them.
export function githubReporter(ctx: ReportContext, command: LineSink, options: GithubOptions): Reporter {
  // Our own lines carry step data (an error message ends with a step's last line of stderr): a CR or LF in them
  // would start a new line, which the runner would read as a workflow command. Only commands and the output inside
  // stop-commands are written as they are.
  const write: LineSink = (line) => command(line.replace(/\r\n|\r|\n/g, ' ⏎ '));
  const { palette } = ctx;
  const tally = new RunTally(ctx.now);
  const token = options.stopToken ?? randomBytes(16).toString('hex');
  const outputs = new Map<string, StepOutput>();
  /** Groups and for_each steps whose failure an annotation inside them already told. */
  const annotatedWithin = new Set<string>();
  let restored: string[] = [];
  let summaryWritten = false;
  /** Failed steps' annotations, by step label, written when the run ends. */
  const failures = new Map<string, string>();
  const annotateFailures = () => {
    for (const failure of failures.values()) command(failure);
    failures.clear();
  };

  if (options.addMasks) for (const value of maskedValues(ctx.secrets)) command(addMask(value));

  const name = (stepId: string, item: number) => `[${stepLabel(stepId, item)}]`;
  const workflowFile = (at: SourceLocation | undefined) => annotationFile(at?.file ?? ctx.workflowFile, ctx.workflowFile, options);

  const printStep = (key: string, title: string, status: string) => {
    const out = outputs.get(key);
    outputs.delete(key);
    if (!out || out.text === '') return write(status);
    command(group(title));
    command(stopCommands(token));
    if (out.dropped > 0) write(`[… ${out.dropped} earlier characters of output not kept]`);
    for (const line of lastLines(out.text, out.text.length)) command(line);
    command(resumeCommands(token));
    write(status);
    command(endGroup());
  };

  /** The annotation for a failed step, unless one inside it (an item, a grouped step) already told the failure. */
  const failureAnnotation = (e: EventOf<'step-finished'>): string | undefined => {
    const info = stepInfo(ctx.index, e.stepId);
    const within = e.item < 0 && annotatedWithin.has(e.stepId);
    if (e.item >= 0) annotatedWithin.add(e.stepId);
    for (const id of info?.groups ?? []) annotatedWithin.add(id);
    if (within) return undefined;
    const out = outputs.get(stepLabel(e.stepId, e.item));
    const tail = out ? lastLines(out.text.slice(out.attemptStart), ANNOTATED_LINES) : [];
    const message = [e.result.error ? errorText(e.result.error) : 'failed', ...tail].join('\n');
    const where = { file: workflowFile(info?.at), line: info?.at.line, col: info?.at.column };
    return annotation('error', { title: `step ${stepLabel(e.stepId, e.item)} failed`, ...where }, message);
  };

  const flushRestored = () => {
    if (restored.length === 0) return;
    const listed = restored.slice(0, RESTORED_LISTED).join(', ') + (restored.length > RESTORED_LISTED ? ', …' : '');
    write(`flow: ${restored.length} step${restored.length === 1 ? '' : 's'} restored from the record (they succeeded earlier): ${listed}`);
    restored = [];
  };

  const finishRun = () => {
    // Steps the run left without a finish (a crash of flow's own) still show what they printed.
    for (const key of [...outputs.keys()]) printStep(key, key, `[${key}] did not finish`);
    if (summaryWritten || !options.summaryFile || tally.runId === undefined) return;
    summaryWritten = true;
    try {
      const file = options.summaryFile;
      const separated = existsSync(file) && statSync(file).size > 0 ? '\n' : '';
      appendFileSync(file, separated + stepSummary(tally, ctx.resumeCommand));
    } catch (err) {
      command(annotation('warning', {}, `flow could not append to the step summary ${options.summaryFile}: ${(err as Error).message}`));
    }
  };

  const handlers = dispatch({
    'run-started': (e) => {
      if (e.run.id === tally.runId)
        write(`flow: run ${e.run.id} ${e.resumed ? 'resumed' : 'started'}: ${e.run.workflowName} (${ctx.workflowFile})`);
    },
    'run-finished': (e) => {
      if (e.runId !== tally.runId) return;
      for (const line of summaryLines(tally, ctx.resumeCommand, palette)) write(line);
      annotateFailures();
      if (e.status !== 'succeeded') {
        const why = e.error ? `: ${errorText(e.error)}` : '';
        const title = `flow run ${e.status}`;
        command(
          annotation(
            'error',
            { title, file: workflowFile(undefined) },
            `run ${e.runId} ${e.status}${why}\nto continue it: ${ctx.resumeCommand}`,
          ),
        );
      }
      finishRun();
    },
    'step-started': (e) => write(`${name(e.stepId, e.item)} started${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`),
    'step-items': (e) => write(`${name(e.stepId, e.item)} ${e.count} item${e.count === 1 ? '' : 's'}`),
    // A log is read line by line: the answer's lines come in step-output.
    'step-tokens': () => {},
    'step-output': (e) => {
      const key = stepLabel(e.stepId, e.item);
      const out = outputs.get(key) ?? { text: '', dropped: 0, attempt: e.attempt, attemptStart: 0 };
      if (e.attempt !== out.attempt) {
        if (out.text !== '' && !out.text.endsWith('\n')) out.text += '\n';
        out.text += `[${key} attempt ${e.attempt}]\n`;
        out.attempt = e.attempt;
        out.attemptStart = out.text.length;
      }
      out.text += e.text;
      if (out.text.length > OUTPUT_KEPT) {
        const cut = out.text.length - OUTPUT_KEPT;
        out.text = out.text.slice(cut);
        out.dropped += cut;
        out.attemptStart = Math.max(0, out.attemptStart - cut);
      }
      outputs.set(key, out);
    },
    'step-retrying': (e) =>
      write(
        `${name(e.stepId, e.item)} ${palette.warn(`attempt ${e.attempt} failed`)} (${errorText(e.error)}); retrying in ${duration(e.delayMs)}`,
      ),
    'step-finished': (e) => {
      const step = tally.steps.get(stepLabel(e.stepId, e.item));
      // Computed before the group is printed (which lets go of the output), written after it: at the top level.
      const failure = e.result.status === 'failed' ? failureAnnotation(e) : undefined;
      const info = stepInfo(ctx.index, e.stepId);
      const title = `${stepLabel(e.stepId, e.item)}${info?.name ? ` (${info.name})` : ''}`;
      printStep(stepLabel(e.stepId, e.item), title, statusLine(e, step));
      // Held until the run ends: a fallback may still recover the step, which then must not show as an error.
      if (failure) failures.set(stepLabel(e.stepId, e.item), failure);
      else if (e.result.status === 'succeeded') failures.delete(stepLabel(e.stepId, e.item));
    },
    'step-restored': () => {},
    'cache-hit': () => {},
    log: (e) => (e.level === 'warning' ? command(annotation('warning', {}, e.message)) : write(`flow: ${e.message}`)),
  });

  const statusLine = (e: EventOf<'step-finished'>, step: StepTally | undefined) => {
    const r = e.result;
    const status = isFailure(r.status) ? palette.fail(r.status) : r.status === 'succeeded' ? palette.ok(r.status) : r.status;
    const time = r.status === 'skipped' ? '' : ` in ${duration(e.durationMs)}`;
    // A cache hit's reason already says so.
    const notes = [...new Set([step?.cached ? 'cache hit' : '', step?.items ? itemCounts(step.items) : '', r.reason ?? ''])].filter(
      Boolean,
    );
    const why = notes.length > 0 ? ` (${notes.join('; ')})` : '';
    return `${name(e.stepId, e.item)} ${status}${time}${why}${r.error && !r.reason ? `: ${errorText(r.error)}` : ''}`;
  };

  const listener: EventListener = (event) => {
    tally.apply(event);
    if (event.type === 'step-restored') {
      if (event.runId === tally.runId) restored.push(stepLabel(event.stepId, event.item));
      return;
    }
    flushRestored();
    // A child workflow's steps are its parent step's business; only its log lines are shown.
    if (event.type !== 'log' && event.type !== 'run-started' && event.runId !== tally.runId) return;
    handlers(event);
  };
  return {
    listener,
    close: () => {
      flushRestored();
      annotateFailures();
      finishRun();
    },
  };
}

/** Every form a step could print a secret in, each once; the runner masks each of them in the job's whole log. */
export function maskedValues(secrets: readonly string[]): string[] {
  const forms = secrets.filter((s) => s.length >= MIN_SECRET).flatMap(secretForms);
  return [...new Set(forms.filter((f) => f.length >= MIN_SECRET))];
}

/** Relative to the workspace when the file is in it (as the run's page names files), else as the user named it. */
function annotationFile(file: string, workflowFile: string, options: GithubOptions): string {
  const path = resolve(options.cwd, file);
  if (options.workspace) {
    const inside = relative(resolve(options.cwd, options.workspace), path);
    if (inside !== '' && inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside)) return inside.split(sep).join('/');
  }
  return path === resolve(options.cwd, workflowFile) ? workflowFile : file;
}

function itemCounts(items: NonNullable<StepTally['items']>): string {
  const done = Object.entries(items.finished).map(([status, n]) => `${n} ${status}`);
  const total = items.total ?? Object.values(items.finished).reduce((a, b) => a + (b ?? 0), 0);
  return `${total} item${total === 1 ? '' : 's'}${done.length > 0 ? `: ${done.join(', ')}` : ''}`;
}

function errorText(error: StepError): string {
  return `${error.class}: ${error.message}`;
}

/** A Markdown section for GITHUB_STEP_SUMMARY: the run's end and a row per step, made only of (masked) event data. */
export function stepSummary(tally: RunTally, resumeCommand: string): string {
  const status = tally.end?.status ?? 'did not finish';
  const lines = [`### flow: ${inline(tally.workflowName)} ${status}`, ''];
  const end = tally.end;
  const how = end ? ` in ${duration(end.durationMs)}${end.error ? `: ${inline(errorText(end.error))}` : ''}` : '';
  lines.push(`Run \`${tally.runId}\` ${status}${how}`, '');
  lines.push('| Step | Status | Duration | Attempts |', '| --- | --- | --- | --- |');
  for (const s of tally.countedSteps()) {
    const notes = [s.cached && s.status === 'succeeded' ? 'cached' : '', s.items ? itemCounts(s.items) : '', s.result?.error?.class ?? ''];
    const shown = s.restored ? 'restored' : s.status + (notes.some(Boolean) ? ` (${notes.filter(Boolean).join('; ')})` : '');
    const time = s.restored || s.status === 'skipped' || s.durationMs === undefined ? '-' : duration(s.durationMs);
    // A for_each's attempts are its items' own: its row gives their counts instead.
    const attempts = s.items ? '-' : String(s.attempts);
    lines.push(`| ${[s.key, shown, time, attempts].map(cell).join(' | ')} |`);
  }
  if (status !== 'succeeded') lines.push('', `To continue it: \`${resumeCommand}\``);
  return `${lines.join('\n')}\n`;
}

/** Text in a table cell: a `|` would end the cell and a newline the row. */
export function cell(text: string): string {
  return inline(text).replace(/\|/g, '\\|');
}

function inline(text: string): string {
  return text.replace(/\r?\n|\r/g, ' ');
}
