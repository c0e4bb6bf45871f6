import type { DiagnosticSink } from '../yaml/diagnostic-sink.js';
import type { Usage } from './check-expressions.js';
import type { StepNode } from './step-tree.js';
import { isRecord } from '../plain-data.js';

// Declared and never read: not wrong, but usually a slip; warnings fail only under --strict.
export function checkUnused(data: unknown, nodes: readonly StepNode[], usage: Usage, sink: DiagnosticSink): void {
  const inputs = isRecord(data) && isRecord(data['inputs']) ? Object.keys(data['inputs']) : [];
  const inputSteps = nodes.filter((n) => n.kind === 'action' && n.raw['type'] === 'input');
  // An input step with no required_fields passes every input on as its output.
  const allUsed =
    usage.allInputs || inputSteps.some((n) => !isRecord(n.raw['config']) || !Array.isArray(n.raw['config']['required_fields']));
  const listed = new Set(
    inputSteps.flatMap((n) =>
      isRecord(n.raw['config']) && Array.isArray(n.raw['config']['required_fields']) ? n.raw['config']['required_fields'].map(String) : [],
    ),
  );
  if (!allUsed) {
    for (const name of inputs) {
      if (usage.inputs.has(name) || listed.has(name)) continue;
      sink.report(['inputs', name], 'unused-input', `input '${name}' is never read`, {
        severity: 'warning',
        onKey: true,
        hint: `read it as \${{ inputs.${name} }}, or remove it`,
      });
    }
  }
  for (const node of nodes) {
    if (node.id === undefined || !isRecord(node.raw['outputs'])) continue;
    const used = usage.outputs.get(node.id);
    if (used === 'all') continue;
    for (const name of Object.keys(node.raw['outputs'])) {
      if (used?.has(name)) continue;
      sink.report([...node.path, 'outputs', name], 'unused-output', `output '${name}' of step '${node.id}' is never read`, {
        severity: 'warning',
        onKey: true,
        hint: `read it as \${{ steps.${node.id}.outputs.${name} }}, or remove it`,
      });
    }
  }
}
