// The validated workflow, as the engine sees it: canonical types, durations in ms, every node with its place in the file.

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  /** JSON pointer into the document. */
  path: string;
}

export type InputType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

export interface InputSpec {
  name: string;
  type: InputType;
  required: boolean;
  default?: unknown;
  enum?: unknown[];
  description?: string;
  secret: boolean;
  at: SourceLocation;
}

export type Backoff = 'constant' | 'exponential';

export interface RetryPolicy {
  maxAttempts: number;
  backoff: Backoff;
  initialDelayMs: number;
  maxDelayMs: number;
  jitter: boolean;
  /** Error classes that are retried; empty means any failure. */
  on: string[];
}

export interface ConcurrencyCap {
  /** As written: it may hold ${{ }}, resolved per attempt. */
  key: string;
  limit: number;
}

export interface CachePolicy {
  ttlMs: number | undefined;
  key: string | undefined;
}

export type OnError = { kind: 'fail' } | { kind: 'continue' } | { kind: 'fallback'; stepId: string };

interface StepBase {
  id: string;
  name: string | undefined;
  /** An expression source (without ${{ }}) or a literal boolean. */
  if: string | boolean | undefined;
  env: Record<string, string>;
  timeoutMs: number | undefined;
  continueOnError: boolean;
  at: SourceLocation;
}

export interface ActionStep extends StepBase {
  kind: 'action';
  /** Canonical type: aliases are resolved (process -> shell). */
  type: string;
  config: Record<string, unknown>;
  retry: RetryPolicy | undefined;
  onError: OnError;
  cache: CachePolicy | undefined;
  forEach: unknown;
  maxConcurrency: number | undefined;
  outputs: Record<string, unknown>;
  /** The pool of workers that runs its attempts under --remote (`runs_on`); the default pool when unset. */
  runsOn?: string | undefined;
  /** Under --remote, a for_each's items go to workers this many to a job (`chunk`). */
  chunk?: number | undefined;
  /** A cap on attempts at once, shared through the store by every run that uses it (`concurrency`). */
  concurrency?: ConcurrencyCap | undefined;
}

export interface ParallelGroup extends StepBase {
  kind: 'parallel';
  steps: Step[];
  maxConcurrency: number | undefined;
  failFast: boolean;
}

export interface SequentialGroup extends StepBase {
  kind: 'sequence';
  steps: Step[];
}

export type Step = ActionStep | ParallelGroup | SequentialGroup;

export interface ModelSpec {
  name: string;
  [key: string]: unknown;
}

/** A named HTTP service from the top-level `services:`; an http step that names it is built with it applied. */
export interface ServiceSpec {
  name: string;
  /** As written: it may hold ${{ }}, resolved in the scope of each step that uses it. */
  baseUrl: string;
  headers: Record<string, string>;
  /** As written (`30s`): it becomes the http step's `config.timeout`, which reports its duration so. */
  timeout: string | undefined;
  retry: RetryPolicy | undefined;
  at: SourceLocation;
}

export interface Workflow {
  file: string;
  name: string;
  version: string | undefined;
  description: string | undefined;
  inputs: InputSpec[];
  secrets: string[];
  env: Record<string, string>;
  timeoutMs: number | undefined;
  models: ModelSpec[];
  services: Record<string, ServiceSpec>;
  /** Custom step type -> module path, resolved against the workflow file. */
  executors: Record<string, string>;
  steps: Step[];
  fallbacks: ActionStep[];
  outputs: Record<string, unknown>;
  onSuccess: Step[];
  onFailure: Step[];
  finally: Step[];
}

/** A workflow as its steps' digests: what a run records, and what a resume compares. */
export interface WorkflowShape {
  /** Each step (main steps, handlers, fallbacks) by id: a digest of its definition and of where it sits. */
  steps: Record<string, { digest: string; main: boolean }>;
  /** Top-level settings that every step may read, each as a digest. */
  settings: Record<string, string>;
}
