// The dashboard's one way to the server: the API under /api/v1, authorised by the cookie the printed URL set.

export interface RunSummary {
  id: string;
  status: string;
  workflow: string;
  path: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  attempt: number;
  ai: Spend | null;
}

export interface Spend {
  calls: number;
  models: string[];
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cost_usd: number | null;
  unpriced_calls: number;
}

export interface StepView {
  id: string;
  group: string | null;
  section: string;
  status: string;
  cached: boolean;
  attempts: number;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  error: { class: string; message: string } | null;
  reason: string | null;
  output: unknown;
  ai: Spend | null;
  attempt_history: AttemptView[];
  items?: Record<string, number>;
}

export interface AttemptView {
  attempt: number;
  status: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  error: { class: string; message: string } | null;
  delay_ms: number | null;
}

export interface RunDetail extends RunSummary {
  definition_hash: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  error: { class: string; message: string } | null;
  steps: StepView[];
  child_runs: RunSummary[];
  ai: Spend;
}

export interface InputField {
  name: string;
  type: string;
  required: boolean;
  default: unknown;
  enum: unknown[] | null;
  description: string | null;
  secret: boolean;
}

export interface PlanNode {
  id: string;
  kind: 'action' | 'parallel' | 'sequence';
  type: string | null;
  for_each: boolean;
  children: PlanNode[];
  prompt: string | null;
}

export interface CheckedWorkflow {
  path: string;
  valid: boolean;
  name: string | null;
  diagnostics: { line: number; column: number; severity: string; code: string; message: string; hint: string | null }[];
  inputs: InputField[];
  graph: Record<'steps' | 'on_success' | 'on_failure' | 'finally', PlanNode[]> | null;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly hint: string | undefined,
  ) {
    super(message);
  }
}

/** A run saved as one page (flow show --html): what the API would answer about it, taken along in the page. */
/** GET /runs/{id}/graph: the plan of the run's workflow and the inputs it declares. */
export interface RunGraph {
  graph: { steps: PlanNode[] } | null;
  inputs: InputField[];
}

export interface SavedRun {
  run: RunDetail;
  graph: CheckedWorkflow['graph'];
  /** Each step's output (its last lines), by step id. */
  logs: Record<string, string>;
}

export const saved: SavedRun | undefined = (window as unknown as { __FLOW_RUN__?: SavedRun }).__FLOW_RUN__;

/** The saved page's answer to what the pages ask; it cannot change anything. */
function fromSaved<T>(data: SavedRun, path: string, method: string): T {
  if (method !== 'GET') throw new ApiError('this is a saved page: it cannot change the run', `flow resume ${data.run.id}`);
  const logs = /^\/runs\/[^/]+\/steps\/([^/]+)\/logs$/.exec(path);
  if (logs) return { chunks: [{ stream: 'stdout', text: data.logs[decodeURIComponent(logs[1]!)] ?? '' }] } as T;
  if (path.endsWith('/graph')) return { graph: data.graph, inputs: [] } as T;
  return data.run as T;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  if (saved) return fromSaved<T>(saved, path, init.method ?? 'GET');
  const res = await fetch(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const body = (await res.json()) as T & { detail?: string; hint?: string };
  if (!res.ok) throw new ApiError(body.detail ?? `HTTP ${res.status}`, body.hint);
  return body;
}
