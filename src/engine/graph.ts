import escapeHtml from 'escape-html';
import type { Step, Workflow } from '../model/workflow.js';

// The plan as a Mermaid flowchart: steps in order, parallel groups as subgraphs, handlers as dotted edges.
// Labels go through escape-html: Mermaid renders entities inside quoted labels, and a quote would end one.
export function mermaidGraph(workflow: Workflow): string {
  const lines = ['flowchart TD', `  start(("${label(workflow.name)}"))`];
  const last = chain(workflow.steps, ['start'], lines, '  ');
  lines.push('  done((done))');
  for (const from of last) lines.push(`  ${from} --> done`);
  for (const [name, steps] of [
    ['on success', workflow.onSuccess],
    ['on failure', workflow.onFailure],
    ['finally', workflow.finally],
  ] as const) {
    if (steps.length === 0) continue;
    const first = node(steps[0]!);
    lines.push(`  done -. ${name} .-> ${first}`);
    chain(steps, [], lines, '  ');
  }
  return `${lines.join('\n')}\n`;
}

/** Draws a sequence; returns the nodes its last step leaves from. */
function chain(steps: readonly Step[], from: string[], lines: string[], indent: string): string[] {
  let previous = from;
  for (const step of steps) {
    draw(step, lines, indent);
    for (const p of previous) lines.push(`${indent}${p} --> ${node(step)}`);
    previous = [node(step)];
  }
  return previous;
}

function draw(step: Step, lines: string[], indent: string): void {
  const condition = step.if === undefined ? '' : `<br/>if ${label(String(step.if))}`;
  if (step.kind === 'action') {
    const each = step.forEach === undefined ? '' : '<br/>for each';
    lines.push(`${indent}${node(step)}["${label(step.name ?? step.id)}<br/><small>${label(step.type)}</small>${each}${condition}"]`);
    return;
  }
  const kind = step.kind === 'parallel' ? `parallel${step.maxConcurrency ? `, max ${step.maxConcurrency}` : ''}` : 'sequence';
  lines.push(`${indent}subgraph ${node(step)}["${label(step.name ?? step.id)} (${kind})${condition}"]`);
  if (step.kind === 'parallel') for (const child of step.steps) draw(child, lines, `${indent}  `);
  else chain(step.steps, [], lines, `${indent}  `);
  lines.push(`${indent}end`);
}

// Prefixed, so that a step called `end` or `graph` cannot clash with Mermaid's keywords.
const node = (step: Step) => `s_${step.id}`;
const label = (text: string) => escapeHtml(text);
