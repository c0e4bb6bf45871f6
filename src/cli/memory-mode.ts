import type { EventListener } from '../model/events.js';
import { setV8Flags } from '../model/v8-flags.js';

// The YAML parser builds a file's syntax tree, then its document, each tens of times the text's size: for a
// generated file of thousands of steps that is most of a run's peak memory (bench/RESULTS.md). V8's memory-saving
// mode collects sooner; it also slows start-up by 15-30 ms, so only a workflow this large turns it on. It acts only
// when set before the heap has grown, and stays on for the rest of the process.
const LARGE_TEXT_CHARS = 256 * 1024;

let saving = false;

/** Before a workflow's text is parsed or run: a large one puts this process in V8's memory-saving mode. */
export function favourMemoryFor(text: string): void {
  if (saving || text.length < LARGE_TEXT_CHARS) return;
  saving = true;
  setV8Flags('--optimize-for-size');
}

// A for_each over many items allocates steadily and keeps little, and V8 still grows its young generation as such a
// run goes on (up to 16-32 MB a semi-space), and the process's peak with it: over 100,000 transforms 110-121 MB on
// Node 20 and 140 MB on Node 26, against 70-75 MB over 1,000. Kept at the size it has when the items start, the same
// run peaks at 88-90 and 116-118 MB, and takes no longer (bench/RESULTS.md). Like the mode above, only the CLI's own
// run does this: the setting is the whole process's and stays.
const MANY_ITEMS = 5000;

let youngKept = false;

/** Listens to a run: once a for_each of many items starts, V8's young generation stops growing. */
export const favourMemoryForItems: EventListener = (event) => {
  if (youngKept || event.type !== 'step-items' || event.count < MANY_ITEMS) return;
  youngKept = true;
  setV8Flags('--semi-space-growth-factor=1');
};
