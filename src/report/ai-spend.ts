// What a run's model calls took, as their recorded outputs say: an AI step's output (src/executors/ai/chat.ts)
// carries `finish_reason`, `usage` and `cost`. One reading for the run summary, JUnit and flow show.

export interface AiSpend {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** US dollars over the calls whose cost is known. */
  cost: number;
  /** Calls without a cost (no usage from the server, or no price for the model). */
  unpriced: number;
}

export function noSpend(): AiSpend {
  return { calls: 0, promptTokens: 0, completionTokens: 0, cost: 0, unpriced: 0 };
}

/** Adds one step's result to `spend` when it is an AI call's; other results, and answers from the cache, change nothing. */
export function addAiSpend(spend: AiSpend, result: { output: unknown; reason?: string | undefined }): void {
  if (result.reason === 'cache hit') return;
  const o = result.output as { usage?: unknown; cost?: unknown; finish_reason?: unknown } | null;
  if (typeof o !== 'object' || o === null || typeof o.finish_reason !== 'string' || !('cost' in o)) return;
  spend.calls++;
  const usage = o.usage as { prompt_tokens?: number; completion_tokens?: number } | null;
  spend.promptTokens += usage?.prompt_tokens ?? 0;
  spend.completionTokens += usage?.completion_tokens ?? 0;
  if (typeof o.cost === 'number') spend.cost += o.cost;
  else spend.unpriced++;
}

/** `2 calls, 1,320 tokens (1,200 in, 120 out), $0.0043`; a cost that is not known for every call says so. */
export function aiLine(ai: AiSpend): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const tokens = `${n(ai.promptTokens + ai.completionTokens)} tokens (${n(ai.promptTokens)} in, ${n(ai.completionTokens)} out)`;
  const cost =
    ai.unpriced === ai.calls
      ? 'cost unknown'
      : `$${Number(ai.cost.toPrecision(3))}${ai.unpriced > 0 ? ` (+ ${ai.unpriced} call${ai.unpriced === 1 ? '' : 's'} of unknown cost)` : ''}`;
  return `${ai.calls} call${ai.calls === 1 ? '' : 's'}, ${tokens}, ${cost}`;
}

/** The same as JSON (flow show --json): the cost is null when no call's is known. */
export function aiJson(ai: AiSpend): Record<string, unknown> {
  return {
    calls: ai.calls,
    prompt_tokens: ai.promptTokens,
    completion_tokens: ai.completionTokens,
    cost_usd: ai.unpriced === ai.calls ? null : Number(ai.cost.toPrecision(6)),
    unpriced_calls: ai.unpriced,
  };
}
