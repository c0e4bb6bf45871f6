import type { StepContext } from '../executors/executor.js';

// A class with the getter on its prototype, not an object literal with `get env()`: V8 builds such a literal in its
// runtime, about 1 µs and a slow object each (a million of them: 115-215 MB against 50 MB), on Node 20 and 26 alike,
// and a run makes one per step attempt and for_each item.
class LazyEnv {
  readonly #makeEnv: () => Record<string, string>;
  #env: Record<string, string> | undefined;

  constructor(makeEnv: () => Record<string, string>) {
    this.#makeEnv = makeEnv;
  }

  get env(): Record<string, string> {
    this.#env ??= this.#makeEnv();
    return this.#env;
  }
}

/** A step attempt's context, whose `env` is built on first read: most steps that are not processes never read it. */
export function attemptContext(fields: Omit<StepContext, 'env'>, makeEnv: () => Record<string, string>): StepContext {
  return Object.assign(new LazyEnv(makeEnv), fields);
}
