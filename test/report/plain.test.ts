import { describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../src/model/events.js';
import { duration } from '../../src/report/format.js';
import { paletteFor } from '../../src/report/palette.js';
import { plainReporter } from '../../src/report/plain.js';
import { log, stepRestored } from '../helpers/events.js';
import { expectGolden } from '../helpers/golden.js';
import { sampleContext, sampleEvents } from './sample-run.js';

const render = (events: FlowEvent[], ctx = sampleContext()) => {
  const lines: string[] = [];
  const reporter = plainReporter(ctx, (l) => lines.push(l));
  events.forEach(reporter.listener);
  reporter.close();
  return lines;
};

describe('plainReporter', () => {
  it('prints one stamped line per event, output split into lines, and the summary at the end', () => {
    expectGolden('plain-sample.txt', `${render(sampleEvents()).join('\n')}\n`);
  });

  it('marks statuses in colour when colour is chosen, and only then', async () => {
    const coloured = render(sampleEvents(), sampleContext({ palette: await paletteFor(1) })).join('\n');
    expectGolden('plain-sample-colour.txt', `${coloured}\n`);
    expect(coloured).toContain('\x1b[31mfailed\x1b[39m');
    expect(render(sampleEvents()).join('\n')).not.toContain('\x1b[');
  });

  it('stamps lines with the local time of day', () => {
    const [first] = render(sampleEvents().slice(0, 1), sampleContext({ now: () => new Date(2026, 0, 2, 13, 4, 5, 120).getTime() }));
    expect(first).toMatch(/^13:04:05\.120 flow: run r1 started/);
  });

  it.each([
    [12.4, '12ms'],
    [1500, '1.5s'],
    [125_000, '2m5s'],
  ])('duration(%d) = %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });
});

describe('plainReporter, restored steps', () => {
  const next = log('info', 'next');
  const unstamped = (lines: string[]) => lines.map((l) => l.replace(/^\S+ /, ''));

  it('lists a few restored steps, one line each, before the next event', () => {
    expect(unstamped(render([stepRestored('a'), stepRestored('b'), next]))).toEqual([
      '[a] succeeded earlier; output restored',
      '[b] succeeded earlier; output restored',
      'flow: next',
    ]);
  });

  it('sums up a long run of restored steps in one line', () => {
    const events = [...Array.from({ length: 500 }, (_, i) => stepRestored(`s${i}`)), next];
    expect(unstamped(render(events))).toEqual([
      'flow: 500 steps restored from the record (they succeeded earlier), [s0] to [s499]',
      'flow: next',
    ]);
  });
});
