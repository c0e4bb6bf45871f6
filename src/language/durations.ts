import parse from 'parse-duration';
import { DURATION_PATTERN } from './schema/defs.js';

const durationPattern = new RegExp(DURATION_PATTERN);

// The language's grammar (500ms, 30s, 5m, 2h, 1d, 1h30m) is checked here; parse-duration does the arithmetic.
export function parseDuration(text: string): number | undefined {
  if (!durationPattern.test(text)) return undefined;
  const ms = parse(text);
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
}
