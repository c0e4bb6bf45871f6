import type { ServiceSpec } from '../model/workflow.js';
import { isRecord } from './plain-data.js';

type Raw = Record<string, unknown>;

/**
 * An http step's config with its service applied, so the engine resolves the service's expressions (a header's
 * `${{ secrets.TOKEN }}`) in the step's own scope and a changed service counts as a changed step on resume.
 * `base_url` is set only here (the step schema does not accept it); the executor resolves `url` against it.
 * `stepTimeout`: the step has its own `timeout:`, which then governs instead of the service's.
 */
export function applyService(config: Raw, service: ServiceSpec, stepTimeout: boolean): Raw {
  const { path, ...rest } = config;
  const own = isRecord(config['headers']) ? config['headers'] : {};
  // Header names are case-insensitive: the step's `authorization` replaces the service's `Authorization`.
  const overridden = new Set(Object.keys(own).map((name) => name.toLowerCase()));
  const inherited = Object.entries(service.headers).filter(([name]) => !overridden.has(name.toLowerCase()));
  const headers = { ...Object.fromEntries(inherited), ...own };
  const applied: Raw = { ...rest, base_url: service.baseUrl, url: config['url'] ?? path };
  if (Object.keys(headers).length > 0) applied['headers'] = headers;
  if (applied['timeout'] === undefined && !stepTimeout && service.timeout !== undefined) applied['timeout'] = service.timeout;
  return applied;
}
