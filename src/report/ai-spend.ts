import type { ModelSpend } from '../model/spend.js';

// How model spend reads: the run summary's line, and the JSON of flow show, the JSON events and the API.

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

/** The cost is null when no call's is known; `unpriced_calls` says how many of the calls it leaves out. */
export function aiJson(ai: ModelSpend): Record<string, unknown> {
  return {
    calls: ai.calls,
    models: ai.models,
    prompt_tokens: ai.promptTokens,
    completion_tokens: ai.completionTokens,
    cached_tokens: ai.cachedTokens,
    cost_usd: ai.unpriced === ai.calls ? null : Number(ai.cost.toPrecision(6)),
    unpriced_calls: ai.unpriced,
  };
}
