import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../src/model/events.js';
import { fitWidth, itemCounts, runningLines, stepText } from '../../src/report/live/frame.js';
import { liveReporter } from '../../src/report/live/live-reporter.js';
import { noColour, paletteFor } from '../../src/report/palette.js';
import { RunTally } from '../../src/report/run-tally.js';
import { stepStarted } from '../helpers/events.js';
import { expectGolden } from '../helpers/golden.js';
import { sampleContext, sampleEvents, sampleIndex } from './sample-run.js';

/** A terminal as the live view sees one: a stream with a size; what it was sent is kept. */
function terminal(columns = 100, rows = 30) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns, rows });
  return { stream, text: () => chunks.join('') };
}

const visible = (s: string) => s.replace(/\x1b/g, '␛');

describe('the live view', () => {
  it('leaves finished steps in the scrollback with marks, a failure’s last lines under it, and the summary', async () => {
    const tty = terminal();
    const reporter = liveReporter(sampleContext({ palette: await paletteFor(1) }), tty.stream);
    sampleEvents().forEach(reporter.listener);
    reporter.close();
    expectGolden('live-sample.txt', visible(tty.text()));
    const plain = stripVTControlCharacters(tty.text());
    expect(plain).toContain('✖ test failed');
    expect(plain).toContain('│ expected 3, got 4');
    expect(plain).toContain('to continue it: flow resume r1');
  });

  it('draws a spinner line per running step and redraws it in place', async () => {
    const tty = terminal();
    const reporter = liveReporter(sampleContext({ now: Date.now }), tty.stream);
    const events = sampleEvents();
    for (const e of events.slice(0, 11)) reporter.listener(e); // lint and test are running
    await new Promise((r) => setTimeout(r, 250));
    const drawn = tty.text();
    reporter.close();
    expect(drawn).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] lint/);
    expect(drawn).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] test/);
    // Redrawn: the region was erased (cursor up, erase line) at least once. (The cursor is hidden on process.stderr,
    // which cli-cursor owns: the pseudo-terminal test checks it.)
    expect(drawn).toContain('\x1b[1A');
  });

  it('never cuts the command that continues the run, however narrow the terminal', () => {
    const tty = terminal(30);
    const resumeCommand = 'flow resume r1 --state build/ci-state/flow-state.db';
    const reporter = liveReporter(sampleContext({ resumeCommand }), tty.stream);
    for (const e of sampleEvents()) reporter.listener(e);
    reporter.close();
    expect(stripVTControlCharacters(tty.text())).toContain(`to continue it: ${resumeCommand}`);
  });

  it('prints each step’s output with --verbose, prefixed with its id', () => {
    const tty = terminal();
    const reporter = liveReporter(sampleContext({ verbose: true }), tty.stream);
    sampleEvents().forEach(reporter.listener);
    reporter.close();
    const plain = stripVTControlCharacters(tty.text());
    expect(plain).toContain('build | compiling');
    expect(plain).toContain('  test | FAIL sum.test.js');
    expect(stripVTControlCharacters(terminalRun(false))).not.toContain('build | compiling');
  });
});

function terminalRun(verbose: boolean): string {
  const tty = terminal();
  const reporter = liveReporter(sampleContext({ verbose }), tty.stream);
  sampleEvents().forEach(reporter.listener);
  reporter.close();
  return tty.text();
}

describe('the live view’s frame', () => {
  const style = { index: sampleIndex, palette: noColour, now: 10_000 };
  const tallyOf = (events: FlowEvent[]) => {
    const tally = new RunTally(() => 1000);
    for (const e of events) tally.apply(e);
    return tally;
  };

  it('shows a for_each as one line with its counts, never a line per item', () => {
    const events = sampleEvents();
    const upTo = events.findIndex((e) => e.type === 'step-started' && e.stepId === 'each' && e.item === 2);
    const tally = tallyOf(events.slice(0, upTo + 1));
    const lines = runningLines(tally.runningSteps(), style, () => '*', 20);
    expect(lines).toEqual(['* each 2/3 ✔1 ✖1 9.0s']);
    expect(itemCounts(tally.steps.get('each')!, noColour)).toBe('2/3 ✔1 ✖1');
  });

  it('keeps within the terminal’s rows, saying how many more run', () => {
    const events: FlowEvent[] = [sampleEvents()[0]!];
    for (let i = 0; i < 50; i++) events.push(stepStarted(`s${i}`));
    const lines = runningLines(tallyOf(events).runningSteps(), style, () => '*', 10);
    expect(lines).toHaveLength(10);
    expect(lines.at(-1)).toBe('… and 41 more running');
  });

  it('shows a step’s line with its colours reset at its end, without cursor moves, as a progress bar left it', () => {
    expect(stepText('\x1b[31mFAIL')).toBe('\x1b[31mFAIL\x1b[0m');
    expect(stepText('\x1b[8mhidden')).toBe('\x1b[8mhidden\x1b[0m');
    expect(stepText('a\x1b[2Kb\x1b[1Ac\x1b[?25l')).toBe('abc');
    expect(stepText('10%\r50%\r100% done')).toBe('100% done');
    expect(stepText('bell\x07 and \x1b]0;title\x07tab\tok')).toBe('bell and tab\tok');
  });

  it('cuts lines to the terminal’s width, so none wraps', () => {
    expect(fitWidth('abcdefghij', 6)).toBe('abcde…');
    expect(fitWidth('\x1b[31mabc\x1b[39m', 6)).toBe('\x1b[31mabc\x1b[39m');
    expect(stripVTControlCharacters(fitWidth('\x1b[31mabcdefghij\x1b[39m', 6))).toBe('abcde…');
  });
});
