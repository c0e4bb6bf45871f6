/** A mapping of plain data (not a list, not null): what a YAML mapping becomes. */
export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
