// The workflows and Makefiles of bench/perf.mjs, written into one directory that every Node's run reads.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// 100 action steps of the three kinds a file mostly holds, in turn: shell, http (a URL, never called by validate)
// and transform (a JSONata expression over an input and an earlier step's output).
function hundredSteps() {
  const out = ['name: hundred', 'inputs:', '  who: { type: string, default: world }', 'steps:'];
  for (let n = 1; n <= 100; n++) {
    const id = `s${String(n).padStart(3, '0')}`;
    if (n % 3 === 1) out.push(`  - id: ${id}`, '    type: shell', `    config: { run: "echo \${{ inputs.who }} ${n}" }`);
    else if (n % 3 === 2)
      out.push(
        `  - id: ${id}`,
        '    type: http',
        `    config: { url: "https://api.example.com/items/${n}", method: GET, expect_status: [200] }`,
      );
    else
      out.push(
        `  - id: ${id}`,
        '    type: transform',
        `    config: { value: { index: ${n}, label: "\${{ inputs.who & '-' & $string(${n} * 2) }}", before: "\${{ $trim(steps.s${String(n - 2).padStart(3, '0')}.output.stdout) }}" } }`,
      );
  }
  return `${out.join('\n')}\n`;
}

// `count` sequential (or parallel) shell steps running `script`, and a Makefile with the same recipes.
function shellFiles(files, label, count, script, parallel) {
  const ids = Array.from({ length: count }, (_, i) => `s${i}`);
  const steps = ids.map((id) => `  - { id: ${id}, type: shell, config: { run: "${script}" } }`).join('\n');
  const yaml = parallel ? `steps:\n  - id: all\n    parallel:\n      steps:\n${steps.replace(/^/gm, '    ')}\n` : `steps:\n${steps}\n`;
  writeFileSync(join(files, `${label}.yaml`), yaml);
  const mk = `all: ${ids.join(' ')}\n${ids.map((id) => `${id}:\n\t${script}\n`).join('')}.PHONY: all ${ids.join(' ')}\n`;
  writeFileSync(join(files, `${label}.mk`), mk);
}

// `count` transform steps, each adding one to the one before (engine-inprocess.mjs's "steps" shape).
function transforms(count) {
  let yaml = 'steps:\n  - { id: s0, type: transform, config: { value: 0 } }\n';
  for (let i = 1; i < count; i++) yaml += `  - { id: s${i}, type: transform, config: { value: "\${{ previous + 1 }}" } }\n`;
  return yaml;
}

// One for_each transform over `count` items, one at a time (the README's for_each syntax; engine-inprocess's "items").
const forEach = (count) =>
  'steps:\n  - { id: s0, type: transform, config: { value: 0 } }\n' +
  `  - { id: s1, type: transform, for_each: "\${{ [1..${count}] }}", max_concurrency: 1, config: { value: "\${{ item + 1 }}" } }\n`;

// Writes every workflow and Makefile the cases use into `files` (shared by all Nodes: none of them is written to).
export function writeFiles(files, eachSizes) {
  mkdirSync(files, { recursive: true });
  writeFileSync(join(files, 'one.yaml'), 'steps:\n  - { id: done, type: shell, config: { run: "true" } }\n');
  writeFileSync(join(files, 'hundred.yaml'), hundredSteps());
  shellFiles(files, 'seq-1000', 1000, 'true', false);
  shellFiles(files, 'seq-1', 1, 'true', false);
  shellFiles(files, 'par-8', 8, 'sleep 0.5', true);
  writeFileSync(join(files, 'transforms-10000.yaml'), transforms(10_000));
  for (const n of eachSizes) writeFileSync(join(files, `each-${n}.yaml`), forEach(n));
}
