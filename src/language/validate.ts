import { resolve } from 'node:path';
import { compareDiagnostics, type Diagnostic } from '../model/diagnostic.js';
import type { Workflow } from '../model/workflow.js';
import { buildWorkflow } from './build-model.js';
import type { ValidationHost } from './host.js';
import { validateAgainstSchema } from './schema/compiled-validator.js';
import { reportSchemaErrors } from './schema/schema-diagnostics.js';
import { checkValue, type ExpressionCheck } from './semantic/check-expressions.js';
import { checkCustomExecutors, checkSubWorkflows } from './semantic/check-modules.js';
import { checkModelSelections } from './semantic/check-models.js';
import { checkServices } from './semantic/check-services.js';
import { checkFallbacks, checkStepExpressions, checkStepTypes, checkUniqueIds } from './semantic/check-steps.js';
import { checkUnused } from './semantic/check-usage.js';
import { buildStepTree, type Relation, type StepNode } from './semantic/step-tree.js';
import { DiagnosticSink } from './yaml/diagnostic-sink.js';
import { loadYaml } from './yaml/load-yaml.js';
import type { SourceText } from './yaml/source.js';
import { isRecord } from './plain-data.js';

export interface ValidationResult {
  file: string;
  source: SourceText;
  /** Every problem, sorted by position. */
  diagnostics: Diagnostic[];
  /** True when no diagnostic is an error (warnings allowed). */
  valid: boolean;
  /** The typed model, present when the file is valid. */
  workflow: Workflow | undefined;
}

export interface ValidateOptions {
  /** The file's real path, against which custom executors and sub-workflows are resolved (default: `file`). */
  path?: string;
}

// Validates one workflow text completely: YAML, schema, then the semantic checks, collecting every problem.
export async function validateSource(
  file: string,
  content: Uint8Array | string,
  host: ValidationHost,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const loaded = loadYaml(file, content);
  const sink = new DiagnosticSink(loaded.source, loaded.doc);
  sink.diagnostics.push(...loaded.diagnostics);
  const data = loaded.data;
  if (data !== undefined || loaded.diagnostics.length === 0) {
    reportSchemaErrors(validateAgainstSchema(data ?? null), data, sink);
    if (isRecord(data)) await checkSemantics(resolve(options.path ?? file), data, host, sink);
  }
  const diagnostics = sink.diagnostics.sort(compareDiagnostics);
  const valid = !diagnostics.some((d) => d.severity === 'error');
  return { file, source: loaded.source, diagnostics, valid, workflow: valid ? buildWorkflow(file, data, sink) : undefined };
}

async function checkSemantics(file: string, data: Record<string, unknown>, host: ValidationHost, sink: DiagnosticSink): Promise<void> {
  const tree = buildStepTree(data);
  const customTypes = new Set(isRecord(data['executors']) ? Object.keys(data['executors']) : []);
  checkUniqueIds(tree.nodes, sink);
  checkStepTypes(tree.nodes, customTypes, sink);
  checkFallbacks(tree.nodes, sink);

  const check: ExpressionCheck = {
    sink,
    tree,
    inputs: new Set(isRecord(data['inputs']) ? Object.keys(data['inputs']) : []),
    secrets: new Set(Array.isArray(data['secrets']) ? data['secrets'].map(String) : []),
    usage: { inputs: new Set(), allInputs: false, outputs: new Map() },
  };
  const topLevel = { relation: (): Relation => 'later-section', forEach: false, ownOutput: false };
  if (data['env'] !== undefined) checkValue(check, data['env'], ['env'], topLevel);
  checkStepExpressions(tree.nodes, check);
  checkServices(data, tree.nodes, check);
  checkModelSelections(data, tree.nodes, sink);
  const afterMain = (x: StepNode): Relation => (x.section === 'steps' ? 'before' : 'later-section');
  if (data['outputs'] !== undefined) checkValue(check, data['outputs'], ['outputs'], { ...topLevel, relation: afterMain });

  await checkCustomExecutors(file, data, tree.nodes, host, sink);
  await checkSubWorkflows(file, tree.nodes, host, sink);
  checkUnused(data, tree.nodes, check.usage, sink);
}

/** Validates a file on disk; `file` is how diagnostics name it, `options.cwd` where it is resolved. */
export async function validateFile(file: string, host: ValidationHost, options: { cwd?: string } = {}): Promise<ValidationResult> {
  const path = resolve(options.cwd ?? '.', file);
  return validateSource(file, await host.readFile(path), host, { path });
}
