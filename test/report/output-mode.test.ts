import { describe, expect, it } from 'vitest';
import { childColourEnv, chooseOutput, colourLevel } from '../../src/report/output-mode.js';

const tty = { isTTY: true, colourDepth: 8 };
const pipe = { isTTY: false, colourDepth: 1 };

describe('chooseOutput', () => {
  it.each([
    ['a terminal', {}, tty, 'live'],
    ['a pipe', {}, pipe, 'plain'],
    ['a terminal in CI', { CI: 'true' }, tty, 'plain'],
    ['a terminal with CI=false', { CI: 'false' }, tty, 'live'],
    ['a dumb terminal', { TERM: 'dumb' }, tty, 'plain'],
    ['GitHub Actions', { GITHUB_ACTIONS: 'true', CI: 'true' }, pipe, 'github'],
  ] as const)('auto in %s is %s', (_, env, terminal, display) => {
    expect(chooseOutput({}, env, terminal).display).toBe(display);
  });

  it('takes --reporter over the guess; live without a terminal falls back to plain lines', () => {
    expect(chooseOutput({ reporter: 'github' }, {}, tty).display).toBe('github');
    expect(chooseOutput({ reporter: 'plain' }, {}, tty).display).toBe('plain');
    expect(chooseOutput({ reporter: 'live' }, { CI: '1' }, tty).display).toBe('live');
    expect(chooseOutput({ reporter: 'live' }, {}, pipe).display).toBe('plain');
    expect(() => chooseOutput({ reporter: 'fancy' }, {}, tty)).toThrow(/--reporter must be one of auto, live, plain, github/);
  });

  it('does not draw when --json writes its events to the same terminal', () => {
    expect(chooseOutput({ json: true }, {}, { ...tty, stdoutIsTTY: true }).display).toBe('plain');
    expect(chooseOutput({ json: true }, {}, { ...tty, stdoutIsTTY: false }).display).toBe('live');
  });
});

describe('colourLevel', () => {
  it.each([
    ['a 256-colour terminal', {}, tty, 2],
    ['a pipe', {}, pipe, 0],
    ['NO_COLOR in a terminal', { NO_COLOR: '1' }, tty, 0],
    ['an empty NO_COLOR', { NO_COLOR: '' }, tty, 2],
    ['FORCE_COLOR=1 in a pipe', { FORCE_COLOR: '1' }, pipe, 1],
    ['FORCE_COLOR=3 in a pipe', { FORCE_COLOR: '3' }, pipe, 3],
    ['FORCE_COLOR=0 in a terminal', { FORCE_COLOR: '0' }, tty, 0],
    ['FORCE_COLOR over NO_COLOR', { FORCE_COLOR: '1', NO_COLOR: '1' }, pipe, 1],
    ['TERM=dumb', { TERM: 'dumb' }, tty, 0],
    ['a terminal in CI', { CI: 'true' }, tty, 0],
    ['FORCE_COLOR in CI', { CI: 'true', FORCE_COLOR: '1' }, pipe, 1],
  ] as const)('%s: %d', (_, env, terminal, level) => {
    expect(colourLevel(env, terminal)).toBe(level);
  });

  it('tells the steps’ processes the same: FORCE_COLOR when on, NO_COLOR when off', () => {
    expect(childColourEnv(2)).toEqual({ FORCE_COLOR: '2', NO_COLOR: undefined });
    expect(childColourEnv(0)).toEqual({ NO_COLOR: '1', FORCE_COLOR: undefined });
  });
});
