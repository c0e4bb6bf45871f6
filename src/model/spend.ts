/**
 * What model calls took: calls, tokens, and US dollars over the calls whose cost is known (a server that sends no
 * usage, or a model without a price, makes a call `unpriced`: its cost is unknown, never guessed). Summed per attempt
 * as the calls are made; per step and per run from the attempts.
 */
export interface ModelSpend {
  calls: number;
  /** The models that answered, each once, in the order they first did (a fallback's after the one that failed). */
  models: string[];
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  cost: number;
  unpriced: number;
}

/** One model call as its answer reported it: usage is null when the server sent none, cost when it is not known. */
export interface ModelCall {
  model: string;
  usage: { prompt_tokens: number; completion_tokens: number; cached_tokens: number } | null;
  cost: number | null;
}

export function noSpend(): ModelSpend {
  return { calls: 0, models: [], promptTokens: 0, completionTokens: 0, cachedTokens: 0, cost: 0, unpriced: 0 };
}

export function addCall(spend: ModelSpend, call: ModelCall): void {
  spend.calls++;
  if (!spend.models.includes(call.model)) spend.models.push(call.model);
  spend.promptTokens += call.usage?.prompt_tokens ?? 0;
  spend.completionTokens += call.usage?.completion_tokens ?? 0;
  spend.cachedTokens += call.usage?.cached_tokens ?? 0;
  if (call.cost === null) spend.unpriced++;
  else spend.cost = roundMicro(spend.cost + call.cost);
}

export function addSpend(spend: ModelSpend, more: ModelSpend): void {
  spend.calls += more.calls;
  for (const m of more.models ?? []) if (!spend.models.includes(m)) spend.models.push(m);
  spend.promptTokens += more.promptTokens;
  spend.completionTokens += more.completionTokens;
  spend.cachedTokens += more.cachedTokens;
  spend.cost = roundMicro(spend.cost + more.cost);
  spend.unpriced += more.unpriced;
}

// Micro-dollars, as each call's cost is: sums stay free of binary-fraction noise.
const roundMicro = (dollars: number) => Math.round(dollars * 1e6) / 1e6;
