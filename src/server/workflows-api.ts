import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Diagnostic } from '../model/diagnostic.js';
import type { Workflow } from '../model/workflow.js';
import { graphOf } from '../report/plan-graph.js';
import type { RunHistory } from '../state/run-history.js';
import { problem } from './problem.js';
import { insideRoot } from './served-path.js';

// The workflows part of the API: the files under the served directory, each with its problems, its inputs (a run
// form is built from them) and its plan as a graph. The language layer is loaded on first use.

/** Directories never looked into: hidden ones (.git, .flow), dependencies and build output. */
const SKIPPED = new Set(['node_modules', 'dist']);
const MAX_DEPTH = 6;
const MAX_FILES = 1000;

async function language() {
  const [{ validateSource }, { nodeHost }] = await Promise.all([import('../language/validate.js'), import('../language/node-host.js')]);
  return { validateSource, nodeHost };
}

/** GET /workflows: every workflow file under root (a YAML file with a top-level `steps:`), valid or not. */
export async function listWorkflows(root: string): Promise<{ workflows: unknown[] }> {
  const { validateSource, nodeHost } = await language();
  const files = await workflowFiles(root);
  const workflows = [];
  for (const file of files) {
    const text = await readFile(join(root, file), 'utf8');
    const result = await validateSource(file, text, nodeHost, { path: join(root, file) });
    workflows.push({
      path: file,
      name: result.workflow?.name ?? null,
      valid: result.valid,
      errors: result.diagnostics.filter((d) => d.severity === 'error').length,
      warnings: result.diagnostics.filter((d) => d.severity === 'warning').length,
    });
  }
  return { workflows };
}

/** GET /workflows/{path}: its text, its problems at line and column, its inputs, and its plan as a graph. */
export async function getWorkflow(root: string, path: string): Promise<unknown> {
  const file = insideRoot(root, path);
  const text = await readFile(file, 'utf8').catch(() => {
    throw problem(
      404,
      'unknown-workflow',
      'Unknown workflow',
      `no file ${path} under the served directory`,
      'GET /api/v1/workflows lists them',
    );
  });
  return checked(root, relative(root, file).split(sep).join('/'), text);
}

/**
 * GET /runs/{id}/graph: the plan of the workflow as the run recorded it (its text, secrets masked), as a tree, and the
 * inputs it declares (what a rerun's form asks for).
 */
export async function runGraph(history: RunHistory, runId: string): Promise<unknown> {
  const run = history.getRun(runId);
  if (!run) throw problem(404, 'unknown-run', 'Unknown run', `no run ${runId} in the state file`);
  const { validateSource, nodeHost } = await language();
  const result = await validateSource(run.workflowPath, run.definition, nodeHost, { path: run.workflowPath });
  return { graph: result.workflow ? graphOf(result.workflow) : null, inputs: result.workflow ? inputsJson(result.workflow) : [] };
}

/** POST /workflows/validate: `{ text, path? }` checked as `flow validate` checks a file (path: where it would be). */
export async function validateText(root: string, body: unknown): Promise<unknown> {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof b['text'] !== 'string') throw problem(400, 'invalid-body', 'Invalid body', '`text` (the workflow as YAML) is required');
  const path = typeof b['path'] === 'string' ? b['path'] : 'workflow.yaml';
  insideRoot(root, path);
  return checked(root, path, b['text']);
}

async function checked(root: string, path: string, text: string): Promise<unknown> {
  const { validateSource, nodeHost } = await language();
  const result = await validateSource(path, text, nodeHost, { path: join(root, path) });
  const workflow = result.workflow;
  return {
    path,
    text,
    valid: result.valid,
    diagnostics: result.diagnostics.map(diagnosticJson),
    name: workflow?.name ?? null,
    inputs: workflow ? inputsJson(workflow) : [],
    graph: workflow ? graphOf(workflow) : null,
  };
}

function diagnosticJson(d: Diagnostic) {
  return { line: d.line, column: d.column, severity: d.severity, code: d.code, message: d.message, path: d.path, hint: d.hint ?? null };
}

function inputsJson(workflow: Workflow) {
  return workflow.inputs.map((i) => ({
    name: i.name,
    type: i.type,
    required: i.required,
    default: i.default ?? null,
    enum: i.enum ?? null,
    description: i.description ?? null,
    secret: i.secret,
  }));
}

async function workflowFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (found.length >= MAX_FILES) return;
      if (e.name.startsWith('.')) continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED.has(e.name) && depth < MAX_DEPTH) await walk(full, depth + 1);
      } else if (/\.ya?ml$/.test(e.name) && /^steps:/m.test(await readFile(full, 'utf8').catch(() => ''))) {
        found.push(relative(root, full).split(sep).join('/'));
      }
    }
  };
  await walk(root, 0);
  return found;
}
