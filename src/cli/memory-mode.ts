// The YAML parser holds a file's syntax tree and its document at once, each tens of times the text's size: for a
// generated file of thousands of steps that was most of a run's peak memory (bench/RESULTS.md). V8's memory-saving
// mode collects sooner; it also slows start-up by 15-30 ms, so only a workflow this large turns it on. It acts only
// when set before the heap has grown, and stays on for the rest of the process.
const LARGE_TEXT_CHARS = 256 * 1024;

let saving = false;

/** Before a workflow's text is parsed or run: a large one puts this process in V8's memory-saving mode. */
export function favourMemoryFor(text: string): void {
  if (saving || text.length < LARGE_TEXT_CHARS) return;
  saving = true;
  // Loaded here: few commands need V8's settings.
  process.getBuiltinModule('node:v8').setFlagsFromString('--optimize-for-size');
}
