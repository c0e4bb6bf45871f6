import { aiProcessingExecutor } from './ai-processing.js';
import type { Executor } from './executor.js';
import { httpExecutor } from './http.js';
import { inputExecutor } from './input.js';
import { shellExecutor } from './shell.js';
import { storageExecutor } from './storage.js';
import { transformExecutor } from './transform.js';
import { workflowExecutor } from './workflow.js';

// The one table of built-in step types. Custom types come from a workflow's `executors:`.
export const BUILTIN_EXECUTORS: readonly Executor[] = [
  inputExecutor,
  shellExecutor,
  httpExecutor,
  aiProcessingExecutor,
  storageExecutor,
  workflowExecutor,
  transformExecutor,
];

export function findBuiltinExecutor(type: string): Executor | undefined {
  return BUILTIN_EXECUTORS.find((e) => e.type === type || e.aliases.includes(type));
}

export const BUILTIN_TYPE_NAMES: readonly string[] = BUILTIN_EXECUTORS.flatMap((e) => [e.type, ...e.aliases]);
