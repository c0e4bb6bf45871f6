// How the dashboard writes numbers and times: as the CLI does.

export function duration(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`;
}

export function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Tokens and cost; a cost no call reported is "unknown", never 0. */
export function spend(ai: { calls: number; prompt_tokens: number; completion_tokens: number; cost_usd: number | null } | null): string {
  if (!ai || ai.calls === 0) return '';
  const tokens = (ai.prompt_tokens + ai.completion_tokens).toLocaleString('en-US');
  return `${tokens} tokens, ${ai.cost_usd === null ? 'cost unknown' : `$${Number(ai.cost_usd.toPrecision(3))}`}`;
}

/** Output as text: colour codes and other escapes taken out. */
export function plainText(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '');
}
