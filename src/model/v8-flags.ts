// V8's flags, changed while a command runs (src/cli/memory-mode.ts). The CLI's code cache (src/cli/code-cache.ts),
// in another bundle, asks whether they were: V8 refuses a cache written under flags other than a start's own.
const CHANGED = Symbol.for('flow.v8FlagsChanged');

export function setV8Flags(flags: string): void {
  // Loaded here: few commands need V8's settings.
  process.getBuiltinModule('node:v8').setFlagsFromString(flags);
  (globalThis as { [CHANGED]?: boolean })[CHANGED] = true;
}

export function v8FlagsChanged(): boolean {
  return (globalThis as { [CHANGED]?: boolean })[CHANGED] === true;
}
