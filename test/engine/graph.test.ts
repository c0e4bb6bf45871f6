import { describe, expect, it } from 'vitest';
import { mermaidGraph } from '../../src/engine/graph.js';
import { nodeHost } from '../../src/language/node-host.js';
import { validateSource } from '../../src/language/validate.js';

const graphOf = async (yaml: string) => {
  const r = await validateSource('w.yaml', yaml, nodeHost);
  if (!r.workflow) throw new Error(JSON.stringify(r.diagnostics));
  return mermaidGraph(r.workflow);
};

describe('mermaidGraph', () => {
  it('draws steps in order, a parallel group as a subgraph, a nested sequence chained inside it, and handlers', async () => {
    const text = await graphOf(
      'name: demo\ninputs: { x: { type: boolean } }\nsteps:\n  - { id: a, type: shell, config: { run: x } }\n  - id: g\n    parallel:\n      steps:\n        - { id: b, type: transform, config: { value: 1 } }\n        - id: seq\n          steps:\n            - { id: c, type: transform, config: { value: 1 } }\n            - { id: d, type: transform, config: { value: 1 } }\n  - { id: e, type: transform, if: "inputs.x", config: { value: 1 } }\non_failure:\n  - { id: alert, type: shell, config: { run: x } }\n',
    );
    expect(text.split('\n')).toEqual([
      'flowchart TD',
      '  start(("demo"))',
      '  s_a["a<br/><small>shell</small>"]',
      '  start --> s_a',
      '  subgraph s_g["g (parallel)"]',
      '    s_b["b<br/><small>transform</small>"]',
      '    subgraph s_seq["seq (sequence)"]',
      '      s_c["c<br/><small>transform</small>"]',
      '      s_d["d<br/><small>transform</small>"]',
      '      s_c --> s_d',
      '    end',
      '  end',
      '  s_a --> s_g',
      '  s_e["e<br/><small>transform</small><br/>if inputs.x"]',
      '  s_g --> s_e',
      '  done((done))',
      '  s_e --> done',
      '  done -. on failure .-> s_alert',
      '  s_alert["alert<br/><small>shell</small>"]',
      '',
    ]);
  });

  it('escapes labels so a quote or angle bracket cannot break the chart', async () => {
    const text = await graphOf(
      'name: \'say "hi" <b>\'\nsteps:\n  - { id: end, name: "a \\"quoted\\" & <tag>", type: shell, config: { run: x } }\n',
    );
    expect(text).toContain('start(("say &quot;hi&quot; &lt;b&gt;"))');
    expect(text).toContain('s_end["a &quot;quoted&quot; &amp; &lt;tag&gt;<br/>');
    expect(text).not.toMatch(/^\s*end\[/m);
  });
});
