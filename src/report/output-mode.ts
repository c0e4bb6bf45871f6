import { UsageError } from '../model/errors.js';

// How a run shows itself, decided once from the flags, the environment and the terminal: a pure function, so
// every combination is tested without a terminal.

/** live: spinners redrawn in place; plain: one timestamped line per event; github: plain with workflow commands. */
export type Display = 'live' | 'plain' | 'github';
export const REPORTERS = ['auto', 'live', 'plain', 'github'] as const;

/** chalk's levels: 0 none, 1 16 colours, 2 256, 3 truecolor. */
export type ColourLevel = 0 | 1 | 2 | 3;

export interface OutputFlags {
  reporter?: string;
  json?: boolean;
  junit?: string;
  verbose?: boolean;
}

export interface OutputChoice {
  display: Display;
  colour: ColourLevel;
  /** NDJSON events on stdout (the run's outputs are then in the last event, not printed apart). */
  json: boolean;
  junit: string | undefined;
  verbose: boolean;
}

export interface Terminal {
  /** Whether stderr, where progress goes, is a terminal. */
  isTTY: boolean;
  /** stderr's colour depth in bits (1, 4, 8, 24) when it is a terminal. */
  colourDepth: number;
  /** Whether stdout is the same kind of terminal: NDJSON written there would land inside the redrawn lines. */
  stdoutIsTTY?: boolean;
}

export function chooseOutput(flags: OutputFlags, env: Record<string, string | undefined>, stderr: Terminal): OutputChoice {
  const reporter = flags.reporter ?? 'auto';
  if (!(REPORTERS as readonly string[]).includes(reporter))
    throw new UsageError(`--reporter must be one of ${REPORTERS.join(', ')}, got '${reporter}'`);
  const dumb = env['TERM'] === 'dumb';
  // Spinners need a terminal to redraw, and one that nothing else writes to; asked for elsewhere, plain lines say
  // the same.
  const canDraw = stderr.isTTY && !dumb && !(flags.json === true && stderr.stdoutIsTTY === true);
  const display: Display =
    reporter === 'auto'
      ? env['GITHUB_ACTIONS'] === 'true'
        ? 'github'
        : canDraw && !isSet(env['CI'])
          ? 'live'
          : 'plain'
      : reporter === 'live' && !canDraw
        ? 'plain'
        : (reporter as Display);
  return { display, colour: colourLevel(env, stderr), json: flags.json === true, junit: flags.junit, verbose: flags.verbose === true };
}

/** FORCE_COLOR wins (as chalk reads it), then NO_COLOR (https://no-color.org), then CI (off), then what the terminal can show. */
export function colourLevel(env: Record<string, string | undefined>, stderr: Terminal): ColourLevel {
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '') {
    if (force === 'false' || force === '0') return 0;
    if (force === '2' || force === '3') return Number(force) as ColourLevel;
    return 1;
  }
  if (isSet(env['NO_COLOR'])) return 0;
  // A CI log is a file, even when the runner gives flow a terminal: colour there is asked for with FORCE_COLOR.
  if (!stderr.isTTY || env['TERM'] === 'dumb' || isSet(env['CI'])) return 0;
  return stderr.colourDepth >= 24 ? 3 : stderr.colourDepth >= 8 ? 2 : stderr.colourDepth >= 4 ? 1 : 0;
}

/**
 * What the steps' processes are told, so their colour follows flow's: `FORCE_COLOR=1 flow run … | less -R` is
 * coloured through and through, `NO_COLOR=1` nowhere. A name mapped to undefined is removed from their environment.
 */
export function childColourEnv(level: ColourLevel): Record<string, string | undefined> {
  return level > 0 ? { FORCE_COLOR: String(level), NO_COLOR: undefined } : { NO_COLOR: '1', FORCE_COLOR: undefined };
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}
