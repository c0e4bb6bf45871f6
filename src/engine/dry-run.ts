import { analyzeExpression } from '../language/expressions/references.js';
import { parseTemplate, singleExpression } from '../language/expressions/template.js';
import type { Step, Workflow } from '../model/workflow.js';
import { evaluate, mapTemplates, renderText } from './expressions.js';

const KNOWN_BEFORE_RUN = new Set(['inputs', 'env', 'secrets', 'run']);

// What `flow run --dry-run` prints: the plan, in its groups, with each value resolved where it is already
// known (inputs, env, run); values that need a step's result are shown as written. Pure: no I/O at all.
export async function describePlan(workflow: Workflow, inputs: Record<string, unknown>, env: Record<string, string>): Promise<string> {
  const scope = {
    inputs,
    env: { ...env, ...workflow.env },
    secrets: Object.fromEntries(workflow.secrets.map((s) => [s, '***'])),
    run: { id: '(new run id)', attempt: 1, workflow: workflow.file, name: workflow.name },
  };
  const lines = [`would run ${workflow.name} (${workflow.file})`, `inputs: ${JSON.stringify(inputs)}`];
  const walk = async (steps: readonly Step[], depth: number): Promise<void> => {
    for (const step of steps) {
      const pad = '  '.repeat(depth);
      const when = step.if === undefined ? '' : `, if ${String(step.if)}`;
      if (step.kind === 'action') {
        const each =
          step.forEach === undefined
            ? ''
            : `, for each of ${JSON.stringify(await known(step.forEach, scope))}${step.maxConcurrency ? ` (max ${step.maxConcurrency})` : ''}`;
        const retry = step.retry ? `, up to ${step.retry.maxAttempts} attempts` : '';
        lines.push(`${pad}- ${step.id}: ${step.type}${each}${when}${retry}`);
        for (const [key, value] of Object.entries(step.config))
          lines.push(`${pad}    ${key}: ${JSON.stringify(await known(value, scope))}`);
      } else {
        const kind =
          step.kind === 'parallel'
            ? `parallel${step.maxConcurrency ? ` (max ${step.maxConcurrency})` : ''}${step.failFast ? '' : ', no fail-fast'}`
            : 'sequence';
        lines.push(`${pad}- ${step.id}: ${kind}${when}`);
        await walk(step.steps, depth + 1);
      }
    }
  };
  await walk(workflow.steps, 0);
  for (const [name, steps] of [
    ['on_success', workflow.onSuccess],
    ['on_failure', workflow.onFailure],
    ['finally', workflow.finally],
  ] as const) {
    if (steps.length === 0) continue;
    lines.push(`${name}:`);
    await walk(steps, 1);
  }
  return lines.join('\n');
}

function known(value: unknown, scope: object): Promise<unknown> {
  return mapTemplates(value, (text) => knownString(text, scope));
}

async function knownString(text: string, scope: object): Promise<unknown> {
  const single = singleExpression(text);
  if (single !== undefined) return resolvable(single) ? ((await evaluate(single, scope)) ?? null) : text;
  let out = '';
  for (const part of parseTemplate(text).parts) {
    if (part.kind === 'text') out += part.text;
    else out += resolvable(part.source) ? renderText(await evaluate(part.source, scope)) : `\${{${part.source}}}`;
  }
  return out;
}

function resolvable(source: string): boolean {
  const analysis = analyzeExpression(source);
  return analysis.ok && analysis.references.every((r) => KNOWN_BEFORE_RUN.has(r.root));
}
