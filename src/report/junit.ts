import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { create } from 'xmlbuilder2';
import { ReportFileError } from '../model/errors.js';
import { duration } from './format.js';
import type { ReportContext, Reporter } from './reporter.js';
import { lastLines, OUTPUT_KEPT, RunTally, type StepTally } from './run-tally.js';
import { type StepInfo, stepInfo } from './step-index.js';
import { makeDirectory } from '../model/make-directory.js';

// `--junit FILE`: the run as a JUnit report (Jenkins' junit-4.xsd), for a CI's test tab. One testcase per step, one
// testsuite per group: that schema cannot nest suites. Written once, when the run is over (also when it failed or was
// interrupted), so the file is never half a document.

/** Items of one for_each listed one by one; the rest are summed up in one testcase. */
export const ITEMS_LISTED = 1000;
/** Characters of a passed for_each item's output kept for its testcase: 1000 items of it stay a few MB. */
const PASSED_ITEM_OUTPUT = 2048;
const FAILURE_LINES = 30;

type XMLBuilder = ReturnType<typeof create>;

type Verdict =
  | { kind: 'passed' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failure' | 'error'; type: string; message: string; text: string };

interface TestCase {
  name: string;
  ms: number;
  startedAt: number | undefined;
  verdict: Verdict;
  out: string;
  err: string;
}

interface Suite {
  name: string;
  classname: string;
  cases: TestCase[];
  /** The group's own time (a parallel group's is less than its steps' sum). */
  ms: number | undefined;
}

export function junitReporter(ctx: ReportContext, file: string): Reporter {
  // A passed item's testcase carries a short tail of its output; items past the listed ones none (they are summed up).
  const tally = new RunTally(ctx.now, {
    keepPassedItems: true,
    passedItemOutput: (item) => (item < ITEMS_LISTED ? PASSED_ITEM_OUTPUT : 0),
  });
  return {
    listener: (event) => void tally.apply(event),
    close: () => {
      // Nothing ran (the workflow or the state file was refused): no report rather than an empty one.
      if (tally.runId === undefined) return;
      writeAtomically(file, junitXml(tally, ctx));
    },
  };
}

function junitXml(tally: RunTally, ctx: ReportContext): string {
  const wf = tally.workflowName;
  const suites = layOut(tally, ctx);
  const cases = suites.flatMap((s) => s.cases);
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '' });
  const root = doc.ele('testsuites', {
    name: wf,
    tests: String(cases.length),
    failures: String(count(cases, 'failure')),
    errors: String(count(cases, 'error')),
    time: seconds(tally.end?.durationMs ?? ctx.now() - tally.startedAt),
  });
  for (const [i, suite] of suites.entries()) {
    const el = root.ele('testsuite', {
      name: suite.name,
      tests: String(suite.cases.length),
      failures: String(count(suite.cases, 'failure')),
      errors: String(count(suite.cases, 'error')),
      skipped: String(count(suite.cases, 'skipped')),
      time: seconds(suite.ms ?? suite.cases.reduce((sum, c) => sum + c.ms, 0)),
      timestamp: isoSeconds(firstStart(suite.cases) ?? tally.startedAt),
    });
    if (i === 0) runProperties(el, tally, ctx);
    for (const c of suite.cases) testcase(el, suite.classname, c);
  }
  return `${doc.end({ prettyPrint: true })}\n`;
}

// The first suite says which run this is and how to continue it: a test tab shows nothing else of the run.
function runProperties(suite: XMLBuilder, tally: RunTally, ctx: ReportContext): void {
  const props = suite.ele('properties');
  const add = (name: string, value: string) => props.ele('property', { name, value: clean(value) });
  add('flow.run_id', tally.runId ?? '');
  add('flow.workflow_file', ctx.workflowFile);
  add('flow.status', tally.end?.status ?? 'running');
  if (tally.end?.error) add('flow.error', `${tally.end.error.class}: ${tally.end.error.message}`);
  if (tally.end?.status !== 'succeeded') add('flow.resume_command', ctx.resumeCommand);
  // What the run's model calls took, as the summary says it (src/report/summary.ts).
  if (tally.ai.calls > 0) {
    add('flow.ai_calls', String(tally.ai.calls));
    add('flow.ai_prompt_tokens', String(tally.ai.promptTokens));
    add('flow.ai_completion_tokens', String(tally.ai.completionTokens));
    add('flow.ai_cost_usd', tally.ai.unpriced === tally.ai.calls ? 'unknown' : String(Number(tally.ai.cost.toPrecision(6))));
  }
}

function testcase(suite: XMLBuilder, classname: string, c: TestCase): void {
  const el = suite.ele('testcase', { name: c.name, classname, time: seconds(c.ms) });
  const v = c.verdict;
  if (v.kind === 'skipped') el.ele('skipped').txt(clean(v.reason));
  else if (v.kind !== 'passed') el.ele(v.kind, { type: clean(v.type), message: clean(v.message) }).txt(clean(v.text));
  if (c.out) el.ele('system-out').txt(clean(c.out));
  if (c.err) el.ele('system-err').txt(clean(c.err));
}

/** The suites in the order of the workflow file, each with its steps' testcases in that order. */
function layOut(tally: RunTally, ctx: ReportContext): Suite[] {
  const wf = tally.workflowName;
  const suites = new Map<string, Suite>();
  const placed = new Set<string>();
  const suiteFor = (info: Pick<StepInfo, 'section' | 'groups'>): Suite => {
    const key = `${info.section}|${info.groups.join('/')}`;
    let suite = suites.get(key);
    if (!suite) {
      suite = newSuite(wf, info, tally);
      suites.set(key, suite);
    }
    return suite;
  };
  // A fallback runs as `<step>.<fallback>`: its testcase follows the step it stood in for.
  const fallbacks = new Map<string, StepTally[]>();
  for (const t of tally.steps.values()) {
    if (ctx.index.has(t.stepId) || !stepInfo(ctx.index, t.stepId)) continue;
    const base = t.stepId.slice(0, t.stepId.lastIndexOf('.'));
    const list = fallbacks.get(base) ?? [];
    list.push(t);
    fallbacks.set(base, list);
  }
  for (const info of ctx.index.values()) {
    if (info.section === 'fallbacks') continue;
    // A group's suite takes its place where the group starts, before the suites of groups inside it.
    if (info.kind !== 'action') {
      suiteFor({ section: info.section, groups: [...info.groups, info.id] });
      continue;
    }
    const cases = stepCases(info, tally, ctx, placed);
    for (const t of fallbacks.get(info.id) ?? []) {
      cases.push(stepCase(t, stepInfo(ctx.index, t.stepId), ctx));
      placed.add(t.key);
    }
    if (cases.length > 0) suiteFor(info).cases.push(...cases);
  }
  // Steps the workflow does not name (never expected): reported rather than lost.
  for (const t of tally.steps.values()) {
    if (placed.has(t.key) || t.kind === 'parallel' || t.kind === 'sequence' || ctx.index.has(t.stepId)) continue;
    suiteFor({ section: 'steps', groups: [] }).cases.push(stepCase(t, undefined, ctx));
  }
  return [...suites.values()].filter((s) => s.cases.length > 0);
}

function newSuite(wf: string, info: Pick<StepInfo, 'section' | 'groups'>, tally: RunTally): Suite {
  const path = info.groups.join('/');
  const handler = info.section === 'steps' ? '' : info.section;
  const group = info.groups.at(-1);
  return {
    name: handler ? `${path || wf} (${handler})` : path || wf,
    classname: [wf, [handler, path].filter(Boolean).join('/')].filter(Boolean).join('.'),
    cases: [],
    ms: group === undefined ? undefined : tally.steps.get(group)?.durationMs,
  };
}

function stepCases(info: StepInfo, tally: RunTally, ctx: ReportContext, placed: Set<string>): TestCase[] {
  const own = tally.steps.get(info.id);
  if (own) placed.add(own.key);
  if (own?.items?.total) return itemCases(info, own.items.total, tally, ctx, placed);
  if (own) return [stepCase(own, info, ctx)];
  // A handler that did not run was not due (on_success after a failure): only the main steps are all listed.
  if (info.section !== 'steps') return [];
  return [notRun(info, tally)];
}

// No event for this step: a group around it was restored or skipped as a whole, or the run ended before it.
function notRun(info: StepInfo, tally: RunTally): TestCase {
  const name = label(info.id, info.name);
  const blank = { name, ms: 0, startedAt: undefined, err: '' };
  for (const g of [...info.groups].reverse()) {
    const group = tally.steps.get(g);
    if (group?.restored && group.status === 'succeeded')
      return { ...blank, verdict: { kind: 'passed' }, out: `restored: its group '${g}' succeeded in an earlier attempt of this run` };
    if (group?.status === 'skipped')
      return { ...blank, verdict: { kind: 'skipped', reason: `not run: its group '${g}' was skipped (${group.result?.reason})` }, out: '' };
  }
  const why =
    tally.end?.status === 'interrupted'
      ? 'the run was interrupted before it'
      : tally.end?.status === 'failed'
        ? 'the run stopped at a failure before it'
        : 'the run ended before it';
  return { ...blank, verdict: { kind: 'skipped', reason: `not run: ${why}` }, out: '' };
}

function itemCases(info: StepInfo, total: number, tally: RunTally, ctx: ReportContext, placed: Set<string>): TestCase[] {
  const cases: TestCase[] = [];
  let missing: number[] = [];
  const flushMissing = () => {
    if (missing.length > 0) cases.push(itemsNotStarted(info, missing[0]!, missing.at(-1)!));
    missing = [];
  };
  for (let i = 0; i < Math.min(total, ITEMS_LISTED); i++) {
    const t = tally.steps.get(`${info.id}[${i}]`);
    if (!t) {
      missing.push(i);
      continue;
    }
    flushMissing();
    placed.add(t.key);
    cases.push(stepCase(t, info, ctx));
  }
  flushMissing();
  if (total > ITEMS_LISTED) cases.push(itemsSummed(info, total, tally, placed));
  return cases;
}

function itemsNotStarted(info: StepInfo, from: number, to: number): TestCase {
  const n = to - from + 1;
  return {
    name: label(from === to ? `${info.id}[${from}]` : `${info.id}[${from}..${to}]`, info.name),
    ms: 0,
    startedAt: undefined,
    verdict: {
      kind: 'skipped',
      reason: `${n} item${n === 1 ? '' : 's'} not started: the for_each stopped before ${n === 1 ? 'it' : 'them'}`,
    },
    out: '',
    err: '',
  };
}

// Beyond ITEMS_LISTED a test tab is no longer read item by item, and the report would grow without bound.
function itemsSummed(info: StepInfo, total: number, tally: RunTally, placed: Set<string>): TestCase {
  const byStatus: Record<string, number[]> = {};
  let ms = 0;
  let startedAt: number | undefined;
  for (let i = ITEMS_LISTED; i < total; i++) {
    const t = tally.steps.get(`${info.id}[${i}]`);
    if (t) placed.add(t.key);
    const status = t ? t.status : 'not started';
    const same = byStatus[status] ?? [];
    same.push(i);
    byStatus[status] = same;
    ms += t?.durationMs ?? 0;
    if (t && (startedAt === undefined || t.startedAt < startedAt)) startedAt = t.startedAt;
  }
  const range = `${info.id}[${ITEMS_LISTED}..${total - 1}]`;
  const tallied = Object.entries(byStatus).map(([s, list]) => `${list.length} ${s}`);
  const out = `${total - ITEMS_LISTED} items summed up in this testcase (a report lists ${ITEMS_LISTED} items one by one): ${tallied.join(', ')}`;
  const listed = (s: string) => `${byStatus[s]!.slice(0, 20).join(', ')}${byStatus[s]!.length > 20 ? ', …' : ''}`;
  const bad = ['failed', 'cancelled', 'interrupted', 'running'].find((s) => byStatus[s]);
  const verdict: Verdict = bad
    ? {
        kind: bad === 'failed' ? 'failure' : 'error',
        type: bad,
        message: `${byStatus[bad]!.length} of items ${ITEMS_LISTED}..${total - 1} ${bad}`,
        text: `${bad}: items ${listed(bad)}`,
      }
    : byStatus['succeeded']
      ? { kind: 'passed' }
      : { kind: 'skipped', reason: out };
  return { name: label(range, info.name), ms, startedAt, verdict, out, err: '' };
}

function stepCase(t: StepTally, info: StepInfo | undefined, ctx: ReportContext): TestCase {
  const notes: string[] = [];
  if (t.restored) notes.push(`restored: it ${t.status} in an earlier attempt of this run and was not run again`);
  else if (t.cached) notes.push('cache hit: its result was reused from the step cache; it did not run');
  if (t.attempts > 1 || t.retries.length > 0) notes.push(`attempts: ${t.attempts}`);
  for (const r of t.retries)
    notes.push(`attempt ${r.attempt} failed (${r.error.class}: ${r.error.message}); retried after ${duration(r.delayMs)}`);
  const reason = t.result?.reason;
  if (reason && t.status === 'succeeded' && reason !== 'cache hit') notes.push(reason);
  if (t.items?.total === 0) notes.push('for_each: no items');
  const cut = (text: string) => (text.length >= OUTPUT_KEPT ? `[only the last ${OUTPUT_KEPT / 1024} KiB are kept]\n${text}` : text);
  return {
    name: label(t.key, info?.name),
    ms: t.durationMs ?? ctx.now() - t.startedAt,
    startedAt: t.restored ? undefined : t.startedAt,
    verdict: verdictOf(t, ctx),
    out: [notes.join('\n'), cut(t.stdout)].filter(Boolean).join('\n\n'),
    err: cut(t.stderr),
  };
}

function verdictOf(t: StepTally, ctx: ReportContext): Verdict {
  const error = t.result?.error;
  const tail = lastLines(t.combined, FAILURE_LINES).join('\n');
  switch (t.status) {
    case 'succeeded':
      return { kind: 'passed' };
    case 'skipped':
      return { kind: 'skipped', reason: `${t.result?.reason ?? 'skipped'}${t.restored ? ' (in an earlier attempt of this run)' : ''}` };
    case 'failed': {
      const message = error?.message ?? 'failed';
      return { kind: 'failure', type: error?.class ?? 'error', message, text: tail || message };
    }
    // A cancelled or interrupted step did not fail on its own (a sibling failed, the user stopped the run): JUnit
    // calls that an error, not a failure, so a test tab does not blame the step.
    case 'cancelled':
    case 'interrupted': {
      const message = error?.message ?? t.status;
      const why =
        t.status === 'cancelled'
          ? `cancelled, not failed: ${message}${t.result?.reason ? ` (${t.result.reason})` : ''}`
          : `interrupted: the run was stopped while it ran; \`${ctx.resumeCommand}\` continues it`;
      return { kind: 'error', type: error?.class ?? t.status, message, text: [why, tail].filter(Boolean).join('\n\n') };
    }
    case 'running':
      return {
        kind: 'error',
        type: 'unfinished',
        message: 'the run ended while this step was running',
        text: [`unfinished: \`${ctx.resumeCommand}\` continues the run`, tail].filter(Boolean).join('\n\n'),
      };
  }
}

function label(key: string, name: string | undefined): string {
  return name ? `${key} (${name})` : key;
}

function count(cases: readonly TestCase[], kind: Verdict['kind']): number {
  return cases.filter((c) => c.verdict.kind === kind).length;
}

function firstStart(cases: readonly TestCase[]): number | undefined {
  let first: number | undefined;
  for (const c of cases) if (c.startedAt !== undefined && (first === undefined || c.startedAt < first)) first = c.startedAt;
  return first;
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** Colours and cursor moves from a step's terminal output are noise in a report; xmlbuilder2 drops what XML 1.0 forbids. */
function clean(text: string): string {
  return stripVTControlCharacters(text);
}

// A CI reads the file as soon as flow exits: it must never see half of it.
function writeAtomically(file: string, text: string): void {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${process.pid}.tmp`);
  try {
    makeDirectory(dir);
    writeFileSync(temp, text);
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new ReportFileError(file, err instanceof Error ? err.message : String(err));
  }
}
