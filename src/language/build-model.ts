import { findBuiltinExecutor } from '../executors/registry.js';
import type {
  ActionStep,
  CachePolicy,
  InputSpec,
  OnError,
  RetryPolicy,
  ServiceSpec,
  SourceLocation,
  Step,
  Workflow,
} from '../model/workflow.js';
import { actionSteps } from '../model/step-lists.js';
import { parseDuration } from './durations.js';
import { singleExpression } from './expressions/template.js';
import { applyService } from './service-config.js';
import type { DiagnosticSink } from './yaml/diagnostic-sink.js';
import { pointer, type PathSegment } from './yaml/locate.js';

type Raw = Record<string, unknown>;
const record = (v: unknown): Raw => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const optionalString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const duration = (v: unknown): number | undefined => (typeof v === 'string' ? parseDuration(v) : undefined);
const stringValues = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(record(v)).map(([k, x]) => [k, String(x)]));

// Builds the typed Workflow from data that has passed validation; every step keeps its source location.
export function buildWorkflow(file: string, data: unknown, sink: DiagnosticSink): Workflow {
  const doc = record(data);
  const at = (path: PathSegment[]): SourceLocation => ({ file, ...sink.positionOf(path), path: pointer(path) });
  const defaults = record(doc['defaults']);
  const defaultRetry = doc['defaults'] !== undefined ? defaults['retry'] : undefined;
  const services = buildServices(record(doc['services']), at);

  const buildSteps = (items: unknown, path: PathSegment[]): Step[] => list(items).map((raw, i) => buildStep(record(raw), [...path, i]));
  const buildStep = (raw: Raw, path: PathSegment[]): Step => {
    const base = {
      id: String(raw['id']),
      name: optionalString(raw['name']),
      if:
        typeof raw['if'] === 'boolean' ? raw['if'] : typeof raw['if'] === 'string' ? (singleExpression(raw['if']) ?? raw['if']) : undefined,
      env: stringValues(raw['env']),
      timeoutMs: duration(raw['timeout']) ?? duration(defaults['timeout']),
      continueOnError:
        raw['continue_on_error'] === true || (raw['continue_on_error'] === undefined && defaults['continue_on_error'] === true),
      at: at(path),
    };
    if (raw['parallel'] !== undefined) {
      const parallel = record(raw['parallel']);
      const maxConcurrency = typeof parallel['max_concurrency'] === 'number' ? parallel['max_concurrency'] : undefined;
      return {
        ...base,
        kind: 'parallel',
        steps: buildSteps(parallel['steps'], [...path, 'parallel', 'steps']),
        maxConcurrency,
        failFast: parallel['fail_fast'] !== false,
      };
    }
    if (raw['steps'] !== undefined) return { ...base, kind: 'sequence', steps: buildSteps(raw['steps'], [...path, 'steps']) };
    return buildAction(raw, base);
  };
  const buildAction = (
    raw: Raw,
    base: Omit<
      ActionStep,
      'kind' | 'type' | 'config' | 'retry' | 'onError' | 'cache' | 'forEach' | 'maxConcurrency' | 'outputs' | 'runsOn' | 'concurrency'
    >,
  ): ActionStep => {
    const type = findBuiltinExecutor(String(raw['type']))?.type ?? String(raw['type']);
    const config = record(raw['config']);
    const service = type === 'http' && typeof config['service'] === 'string' ? services[config['service']] : undefined;
    // A step's own retry wins; otherwise its service's, which is more specific than the defaults.
    const retry =
      raw['retry'] === undefined && service?.retry
        ? service.retry
        : retryPolicy(raw['retry'] ?? defaultRetry ?? (type === 'ai_processing' ? AI_RETRY : undefined));
    return {
      ...base,
      kind: 'action',
      type,
      config: service ? applyService(config, service, raw['timeout'] !== undefined) : config,
      retry,
      onError: onError(raw['on_error']),
      cache: cachePolicy(raw['cache'] ?? defaults['cache']),
      forEach: raw['for_each'],
      maxConcurrency: typeof raw['max_concurrency'] === 'number' ? raw['max_concurrency'] : undefined,
      outputs: record(raw['outputs']),
      ...(typeof raw['runs_on'] === 'string' ? { runsOn: raw['runs_on'] } : {}),
      ...(typeof raw['chunk'] === 'number' ? { chunk: raw['chunk'] } : {}),
      ...(raw['concurrency'] === undefined
        ? {}
        : { concurrency: { key: String(record(raw['concurrency'])['key']), limit: Number(record(raw['concurrency'])['limit']) } }),
    };
  };

  const inputs: InputSpec[] = Object.entries(record(doc['inputs'])).map(([name, spec]) => {
    const s = record(spec);
    const input: InputSpec = {
      name,
      type: (s['type'] as InputSpec['type']) ?? 'string',
      required: s['required'] === true,
      secret: s['secret'] === true,
      at: at(['inputs', name]),
    };
    if ('default' in s) input.default = s['default'];
    if (Array.isArray(s['enum'])) input.enum = s['enum'];
    if (typeof s['description'] === 'string') input.description = s['description'];
    return input;
  });

  const steps = buildSteps(doc['steps'], ['steps']);
  // An input step's required_fields that `inputs:` does not declare are declared by it, as required strings: the
  // concept document's example names its inputs only there, and `--input document_url=…` must be taken.
  for (const step of actionSteps(steps).filter((s) => s.type === 'input')) {
    const fields = step.config['required_fields'];
    for (const name of Array.isArray(fields) ? fields.map(String) : [])
      if (!inputs.some((i) => i.name === name)) inputs.push({ name, type: 'string', required: true, secret: false, at: step.at });
  }

  return {
    file,
    name:
      optionalString(doc['name']) ??
      file
        .split(/[\\/]/)
        .pop()!
        .replace(/\.ya?ml$/, ''),
    version: optionalString(doc['version']),
    description: optionalString(doc['description']),
    inputs,
    secrets: list(doc['secrets']).map(String),
    env: stringValues(doc['env']),
    timeoutMs: duration(doc['timeout']),
    models: Object.entries(record(doc['models'])).map(([name, spec]) => ({ ...record(spec), name })),
    services,
    executors: Object.fromEntries(Object.entries(record(doc['executors'])).map(([k, v]) => [k, String(v)])),
    steps,
    fallbacks: buildSteps(doc['fallbacks'], ['fallbacks']).filter((s): s is ActionStep => s.kind === 'action'),
    outputs: record(doc['outputs']),
    onSuccess: buildSteps(doc['on_success'], ['on_success']),
    onFailure: buildSteps(doc['on_failure'], ['on_failure']),
    finally: buildSteps(doc['finally'], ['finally']),
  };
}

function buildServices(raw: Raw, at: (path: PathSegment[]) => SourceLocation): Record<string, ServiceSpec> {
  const services: Record<string, ServiceSpec> = {};
  for (const [name, value] of Object.entries(raw)) {
    const s = record(value);
    services[name] = {
      name,
      baseUrl: String(s['base_url']),
      headers: stringValues(s['headers']),
      timeout: optionalString(s['timeout']),
      retry: retryPolicy(s['retry']),
      at: at(['services', name]),
    };
  }
  return services;
}

/**
 * Model APIs fail in passing (rate limits, overload, a dropped stream): an AI step that says nothing of retries is
 * tried three times on those, waiting at least what the server asks. Other failures (a 400, a refusal) are not.
 */
const AI_RETRY = {
  max_attempts: 3,
  backoff: 'exponential',
  initial_delay: '1s',
  max_delay: '30s',
  jitter: 'full',
  on: ['http:429', 'http:5xx', 'timeout', 'network'],
};

function retryPolicy(value: unknown): RetryPolicy | undefined {
  if (value === undefined) return undefined;
  const r = record(value);
  const initialDelayMs = duration(r['initial_delay']) ?? 1000;
  return {
    maxAttempts: typeof r['max_attempts'] === 'number' ? r['max_attempts'] : 3,
    backoff: r['backoff'] === 'constant' ? 'constant' : 'exponential',
    initialDelayMs,
    maxDelayMs: duration(r['max_delay']) ?? Math.max(initialDelayMs, 60_000),
    jitter: r['jitter'] === true || r['jitter'] === 'full',
    on: list(r['on']).map(String),
  };
}

function onError(value: unknown): OnError {
  if (value === 'continue') return { kind: 'continue' };
  const fallback = record(value)['fallback'];
  return typeof fallback === 'string' ? { kind: 'fallback', stepId: fallback } : { kind: 'fail' };
}

function cachePolicy(value: unknown): CachePolicy | undefined {
  if (value === undefined || value === false) return undefined;
  const c = record(value);
  return { ttlMs: duration(c['ttl']), key: optionalString(c['key']) };
}
