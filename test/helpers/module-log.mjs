// `node --import ./module-log.mjs …`: every module the process loads is appended, as a URL, to $FLOW_MODULE_LOG:
// the ES modules Node loads, the CLI's bundle files (flow's own loader compiles them: src/cli/code-cache.ts), and, as
// the process exits, the CommonJS modules Node's require() loaded (a package a bundle requires) and Node's own public
// modules loaded since start (as node:NAME).
// Tests use it to check that a command loads only what it needs.
import { subscribe } from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const log = (url) => appendFileSync(process.env.FLOW_MODULE_LOG, `${url}\n`);
const hooks = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.FLOW_MODULE_LOG, url + '\\n');
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
subscribe('flow:bundle-loaded', ({ url }) => log(url));
const required = createRequire(import.meta.url).cache;
const builtinsAtStart = new Set(process.moduleLoadList);
process.on('exit', () => {
  for (const file of Object.keys(required)) log(pathToFileURL(file).href);
  for (const entry of process.moduleLoadList) {
    const name = /^NativeModule (?!internal\/)(.+)$/.exec(entry)?.[1];
    if (name !== undefined && !builtinsAtStart.has(entry)) log(`node:${name}`);
  }
});
