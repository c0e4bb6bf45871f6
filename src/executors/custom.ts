import { importModule } from '../model/import-module.js';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StepFailure } from '../engine/step-failure.js';
import type { Workflow } from '../model/workflow.js';
import type { Executor } from './executor.js';
import { BUILTIN_EXECUTORS } from './registry.js';

type Module = Record<string, unknown>;

// The executor table of one workflow: the built-in types (by name and alias) and its custom modules.
export async function executorTable(
  workflow: Workflow,
  importModule: (path: string) => Promise<Module> = defaultImport,
): Promise<Map<string, Executor>> {
  const table = new Map<string, Executor>();
  for (const e of BUILTIN_EXECUTORS) {
    table.set(e.type, e);
    for (const alias of e.aliases) table.set(alias, e);
  }
  for (const [name, modulePath] of Object.entries(workflow.executors)) {
    const mod = await importModule(resolve(dirname(workflow.file), modulePath));
    table.set(name, customExecutor(name, mod));
  }
  return table;
}

/** A module exporting `execute(config, context)` (and maybe `configSchema`), as the concept document's custom steps. */
export function customExecutor(name: string, mod: Module): Executor {
  const exported = typeof mod['execute'] === 'function' ? mod : ((mod['default'] as Module | undefined) ?? mod);
  const execute = exported['execute'];
  if (typeof execute !== 'function') throw new StepFailure('validation', `executor '${name}' exports no execute function`);
  return {
    type: name,
    aliases: [],
    summary: `custom executor ${name}`,
    configRequired: false,
    configSchema: (exported['configSchema'] as Record<string, unknown> | undefined) ?? {},
    // A module that ignores context.signal still stops holding up the run on a timeout or a stop.
    execute: async (config, context) =>
      (await untilAborted(Promise.resolve((execute as (c: unknown, x: unknown) => unknown)(config, context)), context.signal)) ?? null,
  };
}

function defaultImport(path: string): Promise<Module> {
  return importModule(pathToFileURL(path).href) as Promise<Module>;
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
