import { UsageError } from '../model/errors.js';

/** A flag's value as a whole number of at least `min`, or one clear usage error naming the flag. */
export function wholeNumber(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min) throw new UsageError(`${flag} must be a whole number of at least ${min}, got '${value}'`);
  return n;
}
