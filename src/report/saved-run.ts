import type { RunDetailJson } from './history.js';
import type { PlanNode } from './plan-graph.js';

// `flow show RUN --html`: the dashboard's run page as one file that opens offline (a CI artefact): its script and
// stylesheet inline, the run's data in the page, each step's output cut to its last lines.

/** The output kept per step: its end, where a failure shows. */
export const SAVED_OUTPUT_CHARS = 8 * 1024;

export interface SavedRunData {
  run: RunDetailJson;
  graph: Record<string, PlanNode[]> | null;
  logs: Record<string, string>;
}

export function lastOutput(text: string): string {
  if (text.length <= SAVED_OUTPUT_CHARS) return text;
  const cut = text.slice(-SAVED_OUTPUT_CHARS);
  return `[… ${(text.length - cut.length).toLocaleString('en-US')} characters before]\n${cut.slice(cut.indexOf('\n') + 1)}`;
}

export function savedRunPage(data: SavedRunData, assets: { script: string; style: string }): string {
  // Inside a <script>, `</script` would end it and `<!--` change how it is read: both are written escaped.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const script = assets.script.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8" />',
    '<meta name="viewport" content="width=device-width, initial-scale=1" />',
    `<title>flow run ${escapeText(data.run.id)}</title>`,
    '<link rel="icon" href="data:," />',
    `<style>${assets.style.replace(/<\/(style)/gi, '<\\/$1')}</style>`,
    '</head>',
    '<body>',
    '<div id="app"></div>',
    `<script>window.__FLOW_RUN__ = ${json};</script>`,
    `<script type="module">${script}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
