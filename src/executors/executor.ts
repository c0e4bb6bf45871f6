import type { JsonSchema } from '../language/schema/json-schema.js';
import type { ModelCall } from '../model/spend.js';
import type { ModelSpec } from '../model/workflow.js';

// What every step type declares about itself; the workflow schema is assembled from these.
export interface ExecutorDefinition {
  type: string;
  aliases: readonly string[];
  summary: string;
  /** JSON Schema of the step's `config`. */
  configSchema: JsonSchema;
  /** Whether a step of this type must have a `config` key. */
  configRequired: boolean;
}

/** What a step sees of the run while it executes. */
export interface StepContext {
  runId: string;
  stepId: string;
  attempt: number;
  /** The for_each item index, or -1. */
  item: number;
  /** Stable across attempts and resumes of the same step (and item) of the same run. */
  idempotencyKey: string;
  /** Aborted on timeout, on cancellation by a failing sibling, and on SIGINT/SIGTERM. */
  signal: AbortSignal;
  cwd: string;
  /**
   * The environment for child processes: the process's, the workflow's and the step's. Built on first read, by a
   * getter: read `context.env` itself, as spreading or serializing the context leaves it out.
   */
  env: Record<string, string>;
  /** The output of the step that ran just before. */
  previous: unknown;
  /** The run's inputs, after defaults and type coercion. */
  inputs: Record<string, unknown>;
  workflowFile: string;
  /** The workflow's `models:` catalog, for the steps that call a model. */
  models: readonly ModelSpec[];
  emitOutput(stream: 'stdout' | 'stderr', text: string): void;
  /** A model's answer as it streams: output like emitOutput's stdout, and meanwhile tokens for a live view. */
  emitTokens(text: string): void;
  /** Says a model call was made and what it took, as soon as its answer is in: billed even if the attempt then fails. */
  reportModelCall(call: ModelCall): void;
  /** Runs another workflow file as a child run and returns its outputs. */
  runChildWorkflow(path: string, inputs: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** Resolves ${{ }} in a config value against the step's scope. */
export type ConfigResolver = (value: unknown) => Promise<unknown>;

export interface Executor extends ExecutorDefinition {
  /** Has no effect outside the run (no process, request or file), so its start need not be on disk first. */
  pure?: boolean;
  /** Runs in the driver even under `--remote`: it needs what only the driver has (its run tree). */
  local?: boolean;
  /** Turns the raw config into the config `execute` receives; by default every expression is resolved. */
  resolveConfig?(
    raw: Record<string, unknown>,
    resolve: ConfigResolver,
    evaluate: (source: string) => Promise<unknown>,
  ): Promise<Record<string, unknown>>;
  /**
   * What a cached result depends on besides the resolved config and the workflow's env: read from the process
   * environment (an AI step's endpoint from OPENAI_BASE_URL). Never a secret: the key is stored in the state file.
   */
  cacheScope?(config: Record<string, unknown>, env: Record<string, string>, models: readonly ModelSpec[]): unknown;
  /** Does the work; returns the step's output, or throws StepFailure. */
  execute(config: Record<string, unknown>, context: StepContext): Promise<unknown>;
}
