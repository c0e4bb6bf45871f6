// flow as a library: load and validate workflows in-process (the engine joins this API with `runWorkflow`).
export { validateFile, validateSource, type ValidationResult } from './language/validate.js';
export { nodeHost } from './language/node-host.js';
export type { ValidationHost } from './language/host.js';
export { buildWorkflowSchema } from './language/schema/workflow-schema.js';
export type { Diagnostic, DiagnosticCode, Severity } from './model/diagnostic.js';
export { DIAGNOSTIC_CODES } from './model/diagnostic.js';
export type * from './model/workflow.js';
