import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';

// The memory-saving settings (src/cli/memory-mode.ts) change V8's flags as the run goes, and a start under other flags
// would refuse a code cache written now: a run that turned one on leaves the code cache as it found it. That is what
// shows, from outside, that the setting was made; its effect on the peak is measured in bench/ (perf).
function cachesWritten(dir: string): string[] {
  const root = join(dir, 'cache', 'flow', 'code-cache');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((build) => readdirSync(join(root, build)).filter((f) => f.endsWith('.cache')));
}

function runIn(yaml: string): string[] {
  const dir = tempDir('flow-memory-');
  writeFileSync(join(dir, 'w.yaml'), yaml);
  const r = flow(['run', 'w.yaml', '--state', 'state.db'], dir, {
    XDG_CACHE_HOME: join(dir, 'cache'),
    CI: 'true',
    NODE_DISABLE_COMPILE_CACHE: '',
  });
  expect(r.code, r.stderr).toBe(0);
  return cachesWritten(dir);
}

const transforms = (count: number) =>
  `steps:\n${Array.from({ length: count }, (_, i) => `  - { id: step_number_${i}, type: transform, config: { value: ${i} } }\n`).join('')}`;

describe('the memory-saving settings of a run', () => {
  it('leave a small run alone: it writes its code cache', () => {
    expect(runIn(transforms(3))).toEqual(expect.arrayContaining(['cli.cjs.cache', 'cmd-run.cjs.cache']));
  });

  it('are made for a workflow file of 256 KB or more', () => {
    const padded = (chars: number) => {
      const yaml = transforms(3000);
      return `${yaml}${'#'.repeat(chars - yaml.length - 1)}\n`;
    };
    expect(runIn(padded(256 * 1024 - 1))).not.toEqual([]);
    expect(runIn(padded(256 * 1024))).toEqual([]);
  });

  it('are made once a for_each of 5,000 items or more starts', () => {
    const each = (n: number) =>
      `steps:\n  - { id: each, type: transform, for_each: "\${{ [1..${n}] }}", config: { value: "\${{ item }}" } }\n`;
    expect(runIn(each(4999))).not.toEqual([]);
    expect(runIn(each(5000))).toEqual([]);
  });
});
