import type { RunRecord, RunStatus, StepError, StepResult } from './run.js';
import type { ModelSpend } from './spend.js';

export type StepKind = 'action' | 'parallel' | 'sequence' | 'for_each';

// Everything the engine tells the outside world. Reporters and the state store subscribe; nothing else draws.
export type FlowEvent =
  | { type: 'run-started'; run: RunRecord; resumed: boolean }
  | {
      type: 'run-finished';
      runId: string;
      status: RunStatus;
      durationMs: number;
      error: StepError | undefined;
      outputs: Record<string, unknown> | undefined;
      at: string;
    }
  | {
      type: 'step-started';
      runId: string;
      stepId: string;
      item: number;
      attempt: number;
      kind: StepKind;
      at: string;
      /**
       * The record must be on disk before the engine goes on. False for what has no effect outside the run
       * (transforms, groups, skips): recomputing it after a crash costs nothing, so it may be written in a batch.
       */
      durable: boolean;
      /**
       * The attempt runs in flow's own process with no effect outside the run (a transform): its attempt is recorded
       * once, when it ends.
       */
      inProcess?: boolean;
    }
  | { type: 'step-output'; runId: string; stepId: string; item: number; attempt: number; stream: 'stdout' | 'stderr'; text: string }
  /**
   * A streamed model answer's new text, as it comes, for a live view: not recorded, and not a line of output (the
   * same text comes again, as whole lines, in step-output).
   */
  | { type: 'step-tokens'; runId: string; stepId: string; item: number; attempt: number; text: string }
  | {
      type: 'step-retrying';
      runId: string;
      stepId: string;
      item: number;
      attempt: number;
      delayMs: number;
      error: StepError;
      at: string;
      durable: boolean;
      /** What the failed attempt's model calls took: billed even though it failed. */
      ai?: ModelSpend | undefined;
    }
  | {
      type: 'step-finished';
      runId: string;
      stepId: string;
      item: number;
      kind: StepKind;
      attempt: number;
      result: StepResult;
      durationMs: number;
      durable: boolean;
      /** What the step's last attempt's model calls took (AI steps); earlier attempts' came with their step-retrying. */
      ai?: ModelSpend | undefined;
    }
  /** A for_each knows how many items it has. */
  | { type: 'step-items'; runId: string; stepId: string; item: -1; count: number }
  | { type: 'step-restored'; runId: string; stepId: string; item: number; result: StepResult }
  | { type: 'cache-hit'; runId: string; stepId: string; item: number; key: string }
  | { type: 'log'; runId: string; level: 'info' | 'warning'; message: string };

export type FlowEventType = FlowEvent['type'];
export type EventOf<T extends FlowEventType> = Extract<FlowEvent, { type: T }>;

/** A reporter handles every kind of event: the compiler checks that none is forgotten. */
export type EventHandlers = { [T in FlowEventType]: (event: EventOf<T>) => void };

export type EventListener = (event: FlowEvent) => void;

export function dispatch(handlers: EventHandlers): EventListener {
  return (event) => (handlers[event.type] as (e: FlowEvent) => void)(event);
}
