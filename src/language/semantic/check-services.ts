import { findBuiltinExecutor } from '../../executors/registry.js';
import { suggestion } from '../did-you-mean.js';
import { analyzeExpression } from '../expressions/references.js';
import { hasExpression, parseTemplate } from '../expressions/template.js';
import { isRecord } from '../plain-data.js';
import { offsetInNode } from '../yaml/diagnostic-sink.js';
import type { PathSegment } from '../yaml/locate.js';
import { checkValue, type ExpressionCheck } from './check-expressions.js';
import type { Relation, StepNode } from './step-tree.js';

// The top-level `services:` catalog and the http steps that name a service in it.
export function checkServices(data: Record<string, unknown>, nodes: readonly StepNode[], check: ExpressionCheck): void {
  const services = isRecord(data['services']) ? data['services'] : {};
  // A service is a setting like the workflow's env: it may read inputs, env, secrets and run, not step results.
  const topLevel = { relation: (): Relation => 'later-section', forEach: false, ownOutput: false };
  for (const [name, service] of Object.entries(services)) {
    checkValue(check, service, ['services', name], topLevel);
    if (!isRecord(service)) continue;
    for (const [key, value] of Object.entries(service)) if (key !== 'headers') reportSecrets(check, value, ['services', name, key], name);
  }
  for (const node of nodes) if (isHttp(node)) checkServiceUse(node, Object.keys(services), check);
}

function isHttp(node: StepNode): boolean {
  return node.kind === 'action' && typeof node.raw['type'] === 'string' && findBuiltinExecutor(node.raw['type'])?.type === 'http';
}

function checkServiceUse(node: StepNode, names: string[], check: ExpressionCheck): void {
  const config = isRecord(node.raw['config']) ? node.raw['config'] : {};
  const at = [...node.path, 'config'];
  const step = `step '${node.id ?? '?'}'`;
  const service = config['service'];
  if (service === undefined) {
    if (config['path'] !== undefined)
      check.sink.report([...at, 'path'], 'missing-key', `${step} config.path needs a service: to resolve it against`, {
        onKey: true,
        hint: names.length > 0 ? `add service: ${names[0]}, or write the whole URL as url:` : 'write the whole URL as url:',
      });
    return;
  }
  if (typeof service !== 'string') return;
  if (!names.includes(service)) {
    check.sink.report([...at, 'service'], 'unknown-service', `${step} names service '${service}', which services: does not declare`, {
      hint:
        suggestion(service, names) ??
        (names.length > 0 ? `declared: ${names.join(', ')}` : `declare it: services: { ${service}: { base_url: https://... } }`),
    });
    return;
  }
  const url = config['url'];
  if (typeof url === 'string' && !hasExpression(url) && /^([a-z][a-z0-9+.-]*:|\/\/)/i.test(url))
    check.sink.report([...at, 'url'], 'invalid-value', `${step} config.url is absolute, but a service's url is relative to its base_url`, {
      hint: `drop service: ${service}, or write the path only, e.g. url: /customers`,
    });
}

/**
 * Secrets are masked in what flow writes, but a URL (or anything else of a service) travels further: into the
 * server's access logs, proxies, error messages. Only headers may carry one.
 */
function reportSecrets(check: ExpressionCheck, value: unknown, path: PathSegment[], service: string): void {
  if (Array.isArray(value) || isRecord(value)) {
    for (const [k, v] of Object.entries(value)) reportSecrets(check, v, [...path, Array.isArray(value) ? Number(k) : k], service);
    return;
  }
  if (typeof value !== 'string') return;
  for (const part of parseTemplate(value).parts) {
    if (part.kind !== 'expression') continue;
    const analysis = analyzeExpression(part.source);
    if (!analysis.ok) continue;
    for (const ref of analysis.references) {
      if (ref.root !== 'secrets') continue;
      const start = offsetInNode(check.sink, path, value, part.start + ref.start);
      const within = start === undefined ? undefined : { start, end: start + Math.max(1, ref.end - ref.start) };
      const field = path.slice(2).join('.');
      check.sink.report(path, 'secret-outside-headers', `service '${service}' reads a secret in ${field}; only its headers may`, {
        hint: 'send it in a header (Authorization: Bearer ${{ secrets.NAME }}); a URL ends up in logs and records',
        ...(within ? { within } : {}),
      });
    }
  }
}
