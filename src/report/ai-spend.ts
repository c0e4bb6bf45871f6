import type { ModelSpend } from '../model/spend.js';

// How model spend reads in the run summary and flow show (its JSON is model/event-json.ts aiJson).

/** `2 calls, 1,320 tokens (1,200 in, 120 out), $0.0043`; a cost that is not known for every call says so. */
export function aiLine(ai: ModelSpend): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const tokens = `${n(ai.promptTokens + ai.completionTokens)} tokens (${n(ai.promptTokens)} in, ${n(ai.completionTokens)} out)`;
  const cost =
    ai.unpriced === ai.calls
      ? 'cost unknown'
      : `$${Number(ai.cost.toPrecision(3))}${ai.unpriced > 0 ? ` (+ ${ai.unpriced} call${ai.unpriced === 1 ? '' : 's'} of unknown cost)` : ''}`;
  return `${ai.calls} call${ai.calls === 1 ? '' : 's'}, ${tokens}, ${cost}`;
}
