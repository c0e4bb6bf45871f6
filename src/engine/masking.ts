import { apiKeyNames } from '../executors/ai/request.js';
import { actionSteps } from '../model/step-lists.js';
import type { Workflow } from '../model/workflow.js';
import { renderText } from './expressions.js';

/** The values a run of this workflow must never show: its secrets from the environment and its secret inputs. */
export function secretValues(workflow: Workflow, inputs: Record<string, unknown>, env: Record<string, string | undefined>): string[] {
  const fromEnv = workflow.secrets.map((name) => env[name] ?? '');
  const fromInputs = workflow.inputs.filter((i) => i.secret && inputs[i.name] !== undefined).map((i) => renderText(inputs[i.name]));
  const defaults = workflow.inputs.filter((i) => i.secret && i.default !== undefined).map((i) => renderText(i.default));
  // An AI step's API key is a secret whether or not the workflow lists it: a server may echo it in an error.
  const keys = actionSteps(workflow.steps)
    .filter((s) => s.type === 'ai_processing')
    .flatMap((s) => apiKeyNames(s.config, workflow.models))
    .map((name) => env[name] ?? '');
  return [...fromEnv, ...fromInputs, ...defaults, ...keys];
}

/** Values under 3 characters would mask noise. */
const MIN_LENGTH = 3;
/** Encoded forms of shorter secrets would be too short to tell from ordinary text. */
const MIN_ENCODED = 6;

/**
 * A secret as a step may print it: as is, each line of a multi-line one, URL-encoded (both ways), escaped inside a
 * JSON string, and in base64 (of the value, and of the value and a newline, as `echo "$S" | base64` gives it).
 */
export function secretForms(value: string): string[] {
  const lines = value.includes('\n') ? value.split(/\r?\n/).filter((l) => l.length >= MIN_LENGTH) : [];
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const encoded = value.length >= MIN_ENCODED ? [base64(value), base64(`${value}\n`)] : [];
  return [
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
    ...lines,
    ...encoded,
  ];
}

// Replaces secret values wherever they appear, so no output, log or state row ever holds one.
export class SecretMasker {
  private readonly secrets: string[];

  constructor(values: Iterable<string>) {
    // Longest first, so a secret that contains another is masked whole.
    const forms = [...values].filter((v) => v.length >= MIN_LENGTH).flatMap(secretForms);
    this.secrets = [...new Set(forms)].sort((a, b) => b.length - a.length);
  }

  /** The values masked, for a child run to mask too. */
  get values(): readonly string[] {
    return this.secrets;
  }

  get active(): boolean {
    return this.secrets.length > 0;
  }

  text(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }

  /**
   * How much of a text that is still growing can be shown now: all but an ending that could be the start of a
   * secret, which the next chunk may complete.
   */
  settled(text: string): number {
    let keep = text.length;
    for (const s of this.secrets) {
      for (let k = Math.min(s.length - 1, text.length); k > 0; k--) {
        if (text.endsWith(s.slice(0, k))) {
          keep = Math.min(keep, text.length - k);
          break;
        }
      }
    }
    return keep;
  }

  /** Whether a secret appears anywhere in the value (its masked form would differ from it). */
  holds(value: unknown): boolean {
    if (!this.active) return false;
    if (typeof value === 'string') return this.secrets.some((s) => value.includes(s));
    if (Array.isArray(value)) return value.some((v) => this.holds(v));
    if (typeof value === 'object' && value !== null) return Object.values(value).some((v) => this.holds(v));
    return false;
  }

  value<T>(value: T): T {
    if (!this.active) return value;
    return this.deep(value) as T;
  }

  private deep(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.deep(v));
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.deep(v)]));
    return value;
  }
}
