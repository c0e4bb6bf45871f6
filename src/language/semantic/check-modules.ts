import { dirname, resolve } from 'node:path';
import { BUILTIN_TYPE_NAMES, findBuiltinExecutor } from '../../executors/registry.js';
import type { ValidationHost } from '../host.js';
import { hasExpression } from '../expressions/template.js';
import { reportSchemaErrors } from '../schema/schema-diagnostics.js';
import type { DiagnosticSink } from '../yaml/diagnostic-sink.js';
import { loadYaml } from '../yaml/load-yaml.js';
import { buildStepTree, type StepNode } from './step-tree.js';
import { isRecord } from '../plain-data.js';

const MAX_INCLUDE_DEPTH = 32;

// Loads each custom executor module named under `executors:` and checks its steps' config against it.
export async function checkCustomExecutors(
  file: string,
  data: unknown,
  nodes: readonly StepNode[],
  host: ValidationHost,
  sink: DiagnosticSink,
): Promise<void> {
  const executors = isRecord(data) && isRecord(data['executors']) ? data['executors'] : {};
  for (const [name, modulePath] of Object.entries(executors)) {
    if (typeof modulePath !== 'string') continue;
    const at = ['executors', name];
    if (findBuiltinExecutor(name)) {
      sink.report(at, 'invalid-value', `'${name}' is a built-in step type and cannot be redefined`, {
        onKey: true,
        hint: `pick another name; built-in: ${BUILTIN_TYPE_NAMES.join(', ')}`,
      });
      continue;
    }
    const path = resolve(dirname(file), modulePath);
    if (!(await host.isFile(path))) {
      sink.report(at, 'executor-not-found', `executor module '${modulePath}' does not exist`, {
        hint: `looked for ${path}; paths are relative to the workflow file`,
      });
      continue;
    }
    let mod: Record<string, unknown>;
    try {
      mod = await host.importModule(path);
    } catch (err) {
      sink.report(at, 'executor-invalid', `executor module '${modulePath}' cannot be loaded: ${firstLine(err)}`, {
        hint: 'it must be an ES module (.js/.mjs) that node can import',
      });
      continue;
    }
    const exported = isRecord(mod['default']) && typeof mod['execute'] !== 'function' ? mod['default'] : mod;
    if (typeof exported['execute'] !== 'function') {
      sink.report(at, 'executor-invalid', `executor module '${modulePath}' does not export an execute function`, {
        hint: 'export async function execute(config, context) { ... }',
      });
      continue;
    }
    const steps = nodes.filter((n) => n.kind === 'action' && n.raw['type'] === name);
    await checkCustomConfigs(exported, steps, data, host, sink);
  }
}

async function checkCustomConfigs(
  mod: Record<string, unknown>,
  steps: StepNode[],
  data: unknown,
  host: ValidationHost,
  sink: DiagnosticSink,
): Promise<void> {
  const schema = mod['configSchema'];
  const validateSchema = isRecord(schema) ? await host.compileSchema(schema) : undefined;
  for (const step of steps) {
    const config = step.raw['config'] ?? {};
    const configPath = [...step.path, 'config'];
    if (validateSchema) reportSchemaErrors(validateSchema(config), data, sink, configPath);
    if (typeof mod['validate'] === 'function') {
      try {
        const problems = await (mod['validate'] as (c: unknown) => unknown)(config);
        if (Array.isArray(problems))
          for (const p of problems) sink.report(configPath, 'invalid-value', `step '${step.id}' config: ${String(p)}`, { onKey: true });
      } catch (err) {
        sink.report(configPath, 'invalid-value', `step '${step.id}' config: ${firstLine(err)}`, { onKey: true });
      }
    }
  }
}

// Each `workflow` step's file must exist, and following them must never lead back to a file on the way.
export async function checkSubWorkflows(
  file: string,
  nodes: readonly StepNode[],
  host: ValidationHost,
  sink: DiagnosticSink,
): Promise<void> {
  const root = resolve(file);
  for (const step of workflowSteps(nodes)) {
    const at = [...step.node.path, 'config', 'path'];
    const child = resolve(dirname(root), step.path);
    if (!(await host.isFile(child))) {
      sink.report(at, 'workflow-not-found', `workflow file '${step.path}' does not exist`, {
        hint: `looked for ${child}; paths are relative to this file`,
      });
      continue;
    }
    const cycle = await findCycle(child, [root], host);
    if (cycle)
      sink.report(at, 'workflow-cycle', `workflow '${step.path}' includes itself: ${cycle.join(' -> ')}`, {
        hint: 'a workflow cannot run itself, directly or through others',
      });
  }
}

async function findCycle(file: string, stack: string[], host: ValidationHost): Promise<string[] | undefined> {
  if (stack.includes(file)) return [...stack.slice(stack.indexOf(file)), file].map(shortName);
  if (stack.length > MAX_INCLUDE_DEPTH) return undefined;
  let data: unknown;
  try {
    data = loadYaml(file, await host.readFile(file)).data;
  } catch {
    return undefined;
  }
  for (const step of workflowSteps(buildStepTree(data).nodes)) {
    const child = resolve(dirname(file), step.path);
    if (!(await host.isFile(child))) continue;
    const cycle = await findCycle(child, [...stack, file], host);
    if (cycle) return cycle;
  }
  return undefined;
}

function workflowSteps(nodes: readonly StepNode[]): { node: StepNode; path: string }[] {
  return nodes.flatMap((node) => {
    const config = node.raw['config'];
    const path = isRecord(config) ? config['path'] : undefined;
    const isWorkflow = node.kind === 'action' && node.raw['type'] === 'workflow';
    return isWorkflow && typeof path === 'string' && !hasExpression(path) ? [{ node, path }] : [];
  });
}

function shortName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0] ?? '';
}
