// An ES module by URL or package name (a custom step's module, BullMQ), loaded by Node's own loader. The CLI's
// bundles are compiled through flow's code cache (src/cli/code-cache.ts), where an import() has no loader to go to:
// the bundler turns those of flow's chunks into require(), and Node 20 loses the import callback of a cached script.
// So the CLI's start (src/cli/boot.ts), a module Node loaded itself, lends its import() here; elsewhere (the library,
// tests) this module's own serves.
const HOST_IMPORT = Symbol.for('flow.importModule');

type ImportFunction = (specifier: string) => Promise<Record<string, unknown>>;

export function importModule(specifier: string): Promise<Record<string, unknown>> {
  const host = (globalThis as { [HOST_IMPORT]?: ImportFunction })[HOST_IMPORT];
  return host ? host(specifier) : import(specifier);
}

/** The CLI's start: `importFunction` is an import() of an ES module Node loaded. */
export function lendImport(importFunction: ImportFunction): void {
  (globalThis as { [HOST_IMPORT]?: ImportFunction })[HOST_IMPORT] = importFunction;
}
