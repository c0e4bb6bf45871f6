// flow as a library: load, validate and run workflows in-process.
export { loadWorkflow, runWorkflow, validateWorkflow, type ExecutorOverride, type LoadedWorkflow, type RunWorkflowOptions } from './api.js';
export { validateFile, validateSource, type ValidationResult } from './language/validate.js';
export { nodeHost } from './language/node-host.js';
export type { ValidationHost } from './language/host.js';
export { buildWorkflowSchema } from './language/schema/workflow-schema.js';
export { StepFailure } from './engine/step-failure.js';
export type { RunOutcome } from './engine/run-workflow.js';
export type { Executor, StepContext } from './executors/executor.js';
export { openSqliteStore } from './state/sqlite-store.js';
export type { RunStore, StoredStepResult } from './state/run-store.js';
export { recordEvents } from './state/record-events.js';
export type { FlowEvent, EventListener } from './model/events.js';
export type { RunRecord, StepAttempt, StepResult, StepError, RunStatus, StepStatus } from './model/run.js';
export type { Diagnostic, DiagnosticCode, Severity } from './model/diagnostic.js';
export { DIAGNOSTIC_CODES } from './model/diagnostic.js';
export { InvalidWorkflowError } from './model/errors.js';
export type * from './model/workflow.js';
