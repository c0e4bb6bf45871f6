import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { secretForms } from '../../src/engine/masking.js';
import { nodeHost } from '../../src/language/node-host.js';
import { validateSource } from '../../src/language/validate.js';
import type { FlowEvent } from '../../src/model/events.js';
import { type GithubOptions, githubReporter } from '../../src/report/github.js';
import { addMask, annotation, command, endGroup, escapeData, escapeProperty, group } from '../../src/report/github-commands.js';
import { noColour } from '../../src/report/palette.js';
import type { ReportContext } from '../../src/report/reporter.js';
import { type StepIndex, stepIndex } from '../../src/report/step-index.js';
import {
  cacheHit,
  log,
  runFinished,
  runStarted,
  stepError,
  stepFinished,
  stepItems,
  stepOutput,
  stepRestored,
  stepRetrying,
  stepStarted,
} from '../helpers/events.js';
import { expectGolden } from '../helpers/golden.js';

/** What @actions/core writes for a call, without the newline: the reference our commands must equal. */
function coreWrites(call: () => void): string {
  const original = process.stdout.write;
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    call();
  } finally {
    process.stdout.write = original;
  }
  expect(out.endsWith('\n')).toBe(true);
  return out.slice(0, -1);
}

const TRICKY = [
  'plain',
  '100%',
  '%25 already',
  'a\r\nb',
  'line\nbreak',
  'key: value',
  'a,b',
  'déjà vu ✓ 😀',
  '::warning::x',
  '%0A',
  ':',
  '',
];
/** Strings built mostly of the characters the runner decodes, and any unicode besides. */
const anyText = fc.oneof(
  fc.string({ unit: fc.constantFrom('%', '\r', '\n', ':', ',', '=', 'a', 'é', '😀', '2', '5', 'A', 'D') }),
  fc.string({ unit: 'binary' }),
);

describe('workflow commands, byte for byte as @actions/core writes them', () => {
  it.each(TRICKY)('escapes %j in an error annotation, a group and a mask', (text) => {
    const where = { file: `src/${text}.yaml`, startLine: 12, startColumn: 5, title: `step ${text} failed` };
    expect(annotation('error', { file: where.file, line: 12, col: 5, title: where.title }, text)).toBe(
      coreWrites(() => core.error(text, where)),
    );
    expect(group(text)).toBe(coreWrites(() => core.startGroup(text)));
    expect(addMask(text)).toBe(coreWrites(() => core.setSecret(text)));
  });

  it('ends a group and writes an annotation without properties as core does', () => {
    expect(endGroup()).toBe(coreWrites(() => core.endGroup()));
    expect(annotation('warning', {}, 'careful')).toBe(coreWrites(() => core.warning('careful')));
    expect(annotation('error', { title: 'only a title' }, 'x')).toBe(coreWrites(() => core.error('x', { title: 'only a title' })));
  });

  it('matches core for any text in the message and in every property', () => {
    fc.assert(
      fc.property(anyText, anyText, anyText, fc.nat(), fc.nat(), (message, file, title, line, col) => {
        const ours = annotation('error', { file, line, col, title }, message);
        const theirs = coreWrites(() => core.error(message, { file, startLine: line, startColumn: col, title }));
        expect(ours).toBe(theirs);
        expect(addMask(message)).toBe(coreWrites(() => core.setSecret(message)));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves no character in a property that would end it, and none in a message that would end the line', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(escapeProperty(text)).not.toMatch(/[\r\n:,]/);
        expect(escapeData(text)).not.toMatch(/[\r\n]/);
        // The runner's decoding gives the text back.
        const decode = (s: string) =>
          s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
        expect(decode(escapeProperty(text))).toBe(text);
      }),
    );
    expect(command('x', { a: 'v:1,2', b: undefined, c: '' }, 'm')).toBe('::x a=v%3A1%2C2::m');
  });
});

const WORKFLOW = `name: demo
secrets: [TOKEN]
steps:
  - id: build
    name: Build it
    type: shell
    config: { run: "echo building" }
  - id: flaky
    type: shell
    retry: { max_attempts: 2, initial_delay: 1s }
    config: { run: "./flaky.sh" }
  - id: each
    for_each: [1, 2, 3]
    type: shell
    config: { run: "echo \${{ item }}" }
  - id: checks
    parallel:
      steps:
        - { id: lint, type: shell, config: { run: "npm run lint" } }
        - { id: test, type: shell, config: { run: "npm test" } }
  - id: deploy
    if: \${{ inputs.deploy }}
    type: shell
    config: { run: "./deploy.sh" }
inputs:
  deploy: { type: boolean, default: false }
`;

let index: StepIndex;
beforeAll(async () => {
  const checked = await validateSource('w.yaml', WORKFLOW, nodeHost);
  index = stepIndex(checked.workflow!);
});

const SECRETS = ['s3cr3t-value', 'ab', 'line-one\nline-two'];
const context = (): ReportContext => ({
  index,
  workflowFile: 'w.yaml',
  resumeCommand: 'flow resume r1',
  palette: noColour,
  secrets: SECRETS,
  verbose: false,
  now: () => Date.UTC(2026, 0, 1, 12),
});

/** A run through every kind of step: output, a retry, a for_each, a parallel group whose two steps' output interleaves, a skip. */
const FAILING_RUN: FlowEvent[] = [
  runStarted({ workflowName: 'demo' }),
  stepStarted('build'),
  stepOutput('build', 'building\n'),
  stepFinished('build', 1200),
  stepStarted('flaky'),
  stepOutput('flaky', 'trying\n'),
  stepOutput('flaky', 'connection reset\n', { stream: 'stderr' }),
  stepRetrying('flaky', 1, 1000, stepError('exited with code 1')),
  stepStarted('flaky', { attempt: 2 }),
  stepOutput('flaky', 'trying\nok', { attempt: 2 }),
  stepFinished('flaky', 2300, { attempts: 2 }),
  stepStarted('each', { kind: 'for_each', attempt: 1 }),
  stepItems('each', 3),
  stepStarted('each', { item: 0 }),
  stepStarted('each', { item: 1 }),
  stepOutput('each', '1\n', { item: 0 }),
  stepOutput('each', '2\n', { item: 1 }),
  stepFinished('each', 40, {}, { item: 0 }),
  stepFinished('each', 45, {}, { item: 1 }),
  stepStarted('each', { item: 2 }),
  stepFinished('each', 30, {}, { item: 2 }),
  stepFinished('each', 120, {}, { kind: 'for_each' }),
  stepStarted('checks', { kind: 'parallel', attempt: 1 }),
  stepStarted('lint'),
  stepStarted('test'),
  stepOutput('lint', 'linting\n'),
  stepOutput('test', 'running 3 tests\n'),
  stepOutput('lint', 'no problems | 0 warnings\n'),
  stepOutput('test', '::warning::injected\nFAIL add.test.ts\n  expected 3, got 4 (100%)\n', { stream: 'stderr' }),
  stepFinished('test', 3100, { status: 'failed', error: stepError('process exited with code 1') }),
  stepFinished('lint', 3300),
  stepFinished('checks', 3400, { status: 'failed', error: stepError("step 'test' failed") }, { kind: 'parallel' }),
  stepFinished('deploy', 0, { status: 'skipped', reason: 'if: ${{ inputs.deploy }} was false', attempts: 0 }),
  log('info', 'on_failure handlers: none'),
  runFinished('failed', 8400, { error: stepError("step 'test': process exited with code 1") }),
];

function report(events: FlowEvent[], options: Partial<GithubOptions> = {}, ctx = context()): string[] {
  const lines: string[] = [];
  const reporter = githubReporter(ctx, (l) => lines.push(l), {
    summaryFile: undefined,
    workspace: undefined,
    cwd: '/work/repo',
    addMasks: true,
    stopToken: 'TOKEN-1',
    ...options,
  });
  for (const e of events) reporter.listener(e);
  reporter.close();
  return lines;
}

describe('githubReporter', () => {
  it('reports a failing run as golden/github-failing-run.txt', () => {
    expectGolden('github-failing-run.txt', `${report(FAILING_RUN).join('\n')}\n`);
  });

  it('lets no step data outside stop-commands start a line: a CR or LF in an error message stays on its line', () => {
    const forged = stepError('exited with code 1: building\r::error title=forged::all green\n::add-mask::x');
    const lines = report([
      runStarted({ workflowName: 'demo' }),
      stepStarted('build'),
      stepRetrying('build', 1, 100, forged),
      stepFinished('build', 10, { status: 'failed', error: forged }),
      runFinished('failed', 20, { error: forged }),
    ]).flatMap((l) => l.split(/\r\n|\r|\n/));
    expect(lines.filter((l) => l.startsWith('::error title=forged') || l.startsWith('::add-mask::x'))).toEqual([]);
    expect(lines.some((l) => l.includes('building ⏎ ::error title=forged::all green'))).toBe(true);
  });

  it('annotates no error for a step that a fallback recovered', () => {
    const lines = report([
      runStarted({ workflowName: 'demo' }),
      stepStarted('build'),
      stepFinished('build', 10, { status: 'failed', error: stepError('exited with code 69') }),
      stepStarted('build.cached'),
      stepFinished('build.cached', 5),
      stepFinished('build', 20, { status: 'succeeded', reason: "recovered by fallback 'cached'" }),
      runFinished('succeeded', 30),
    ]);
    expect(lines.filter((l) => l.startsWith('::error'))).toEqual([]);
  });

  it('reports a resumed run: restored steps in one line, a cache hit, a child run’s steps left out', () => {
    const events: FlowEvent[] = [
      runStarted({ workflowName: 'demo' }, { resumed: true }),
      stepRestored('build'),
      stepRestored('flaky'),
      cacheHit('lint', 'k1'),
      stepFinished('lint', 2, { reason: 'cache hit' }),
      stepStarted('test'),
      runStarted({ id: 'child', workflowName: 'child' }),
      stepStarted('inner', { runId: 'child' }),
      stepOutput('inner', 'from the child\n', { runId: 'child' }),
      log('warning', 'child: output not restorable', { runId: 'child' }),
      runFinished('succeeded', 5, { runId: 'child' }),
      stepOutput('test', 'ok\n'),
      stepFinished('test', 900),
      runFinished('succeeded', 1000),
    ];
    expectGolden('github-resumed-run.txt', `${report(events, { addMasks: false }).join('\n')}\n`);
  });

  it('registers every form of each secret before anything else, and no value under 3 characters', () => {
    const lines = report(FAILING_RUN);
    const masks = lines.filter((l) => l.startsWith('::add-mask::'));
    expect(lines.slice(0, masks.length)).toEqual(masks);
    const expected = new Set([...secretForms('s3cr3t-value'), ...secretForms('line-one\nline-two')].map((f) => addMask(f)));
    expect(new Set(masks)).toEqual(expected);
    expect(masks).toContain('::add-mask::line-one');
    expect(masks).toContain('::add-mask::line-one%0Aline-two');
    expect(masks).not.toContain('::add-mask::ab');
    expect(report(FAILING_RUN, { addMasks: false }).some((l) => l.includes('s3cr3t'))).toBe(false);
  });

  it('wraps output in a fresh stop-commands token per run', () => {
    const tokens = [0, 1].map(() => report(FAILING_RUN, { stopToken: undefined }).find((l) => l.startsWith('::stop-commands::'))!);
    expect(tokens[0]).toMatch(/^::stop-commands::[0-9a-f]{32}$/);
    expect(tokens[0]).not.toBe(tokens[1]);
  });

  it('names the annotated file relative to GITHUB_WORKSPACE when the workflow is in it', () => {
    const ctx = { ...context(), index: relocated(index, 'ci/w.yaml'), workflowFile: 'ci/w.yaml' };
    const inside = report(FAILING_RUN, { workspace: '/work', cwd: '/work/repo' }, ctx).filter((l) => l.startsWith('::error'));
    expect(inside[0]).toMatch(/^::error title=step test failed,file=repo\/ci\/w\.yaml,line=20,col=11::/);
    const outside = report(FAILING_RUN, { workspace: '/elsewhere', cwd: '/work/repo' }, ctx).filter((l) => l.startsWith('::error'));
    expect(outside[0]).toContain(',file=ci/w.yaml,line=20,');
  });
});

function relocated(index: StepIndex, file: string): StepIndex {
  return new Map([...index].map(([id, info]) => [id, { ...info, at: { ...info.at, file } }]));
}

describe('the step summary', () => {
  it('is appended once to GITHUB_STEP_SUMMARY, after what was there, as a table with a row per step', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'flow-gh-')), 'summary.md');
    writeFileSync(file, '## Earlier step\nits own text');
    report(FAILING_RUN, { summaryFile: file });
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('## Earlier step\nits own text\n### flow: demo failed\n')).toBe(true);
    const rows = text.split('\n').filter((l) => l.startsWith('| '));
    expect(rows).toEqual([
      '| Step | Status | Duration | Attempts |',
      '| --- | --- | --- | --- |',
      '| build | succeeded | 1.2s | 1 |',
      '| flaky | succeeded | 2.3s | 2 |',
      '| each | succeeded (3 items: 3 succeeded) | 120ms | - |',
      '| lint | succeeded | 3.3s | 1 |',
      '| test | failed (exit:1) | 3.1s | 1 |',
      '| deploy | skipped | - | 0 |',
    ]);
    expect(text).toContain("Run `r1` failed in 8.4s: exit:1: step 'test': process exited with code 1");
    expect(text).toContain('To continue it: `flow resume r1`');
    expect(text.match(/### flow:/g)).toHaveLength(1);
  });

  it('escapes what would break the table: a | ends a cell, a newline the row', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'flow-gh-')), 'summary.md');
    const events: FlowEvent[] = [
      runStarted({ workflowName: 'a | b\nc' }),
      stepStarted('build'),
      stepFinished('build', 5, { status: 'failed', error: stepError('x', 'odd|class\nnext') }),
      runFinished('failed', 6, { error: stepError('line one\nline two | three') }),
    ];
    report(events, { summaryFile: file });
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('| build | failed (odd\\|class next) | 5ms | 1 |');
    expect(text).toContain('### flow: a | b c failed\n');
    expect(text).toContain('exit:1: line one line two | three\n');
  });
});
