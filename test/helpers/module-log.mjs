// `node --import ./module-log.mjs …`: every module the process loads is appended, as a URL, to $FLOW_MODULE_LOG.
// Tests use it to check that a command loads only what it needs.
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.FLOW_MODULE_LOG, url + '\\n');
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
