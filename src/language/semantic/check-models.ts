import { StepFailure } from '../../engine/step-failure.js';
import { chooseModel } from '../../executors/ai/request.js';
import { strictForm } from '../../executors/ai/strict-schema.js';
import { findBuiltinExecutor } from '../../executors/registry.js';
import type { ModelSpec } from '../../model/workflow.js';
import { hasExpression } from '../expressions/template.js';
import { isRecord } from '../plain-data.js';
import type { DiagnosticSink } from '../yaml/diagnostic-sink.js';
import type { StepNode } from './step-tree.js';

// An AI step's model selection that no model satisfies fails every run: found before the run, at its line, by the
// same choice the step makes at run time (the workflow's `models:` over the built-in table).
export function checkModelSelections(data: Record<string, unknown>, nodes: readonly StepNode[], sink: DiagnosticSink): void {
  const catalog: ModelSpec[] = Object.entries(isRecord(data['models']) ? data['models'] : {}).map(([name, spec]) => ({
    ...(isRecord(spec) ? spec : {}),
    name,
  }));
  for (const node of nodes) {
    if (node.kind !== 'action' || typeof node.raw['type'] !== 'string') continue;
    if (findBuiltinExecutor(node.raw['type'])?.type !== 'ai_processing') continue;
    const config = isRecord(node.raw['config']) ? node.raw['config'] : {};
    checkResponseSchema(node, config['response_schema'], sink);
    const model = config['model'];
    // A selection with an expression in it is decided at run time.
    if (!isRecord(model) || !Array.isArray(model['prefer']) || hasExpression(JSON.stringify(model))) continue;
    try {
      chooseModel(model, {}, catalog);
    } catch (err) {
      if (!(err instanceof StepFailure)) throw err;
      sink.report([...node.path, 'config', 'model'], 'no-model-fits', `step '${node.id ?? '?'}': ${err.message}`, {
        onKey: true,
        hint: 'add a model that fits to prefer (or to models:, with its capabilities and prices), or ask for less',
      });
    }
  }
}

// A schema strict mode cannot take is sent loosely: the server may answer otherwise, and flow then re-asks (and pays).
function checkResponseSchema(node: StepNode, schema: unknown, sink: DiagnosticSink): void {
  if (!isRecord(schema) || hasExpression(JSON.stringify(schema)) || strictForm(schema)) return;
  sink.report(
    [...node.path, 'config', 'response_schema'],
    'schema-not-strict',
    `step '${node.id ?? '?'}': response_schema cannot be sent in strict mode, so the server may not keep to it`,
    {
      severity: 'warning',
      onKey: true,
      hint: 'make the root an object; leave out allOf, oneOf, not, if/then/else, $ref and patternProperties, and additionalProperties other than false (optional properties are fine: flow sends them as nullable)',
    },
  );
}
