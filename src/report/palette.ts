import type { ColourLevel } from './output-mode.js';

/** The few styles reporters use; with colour off each is the identity, and chalk is never loaded. */
export interface Palette {
  ok(text: string): string;
  fail(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  accent(text: string): string;
}

const same = (text: string) => text;
export const noColour: Palette = { ok: same, fail: same, warn: same, dim: same, bold: same, accent: same };

export async function paletteFor(level: ColourLevel): Promise<Palette> {
  if (level === 0) return noColour;
  const { Chalk } = await import('chalk');
  const chalk = new Chalk({ level });
  return {
    ok: (t) => chalk.green(t),
    fail: (t) => chalk.red(t),
    warn: (t) => chalk.yellow(t),
    dim: (t) => chalk.dim(t),
    bold: (t) => chalk.bold(t),
    accent: (t) => chalk.cyan(t),
  };
}
