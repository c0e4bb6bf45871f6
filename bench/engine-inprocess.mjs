// Child of bench/engine.mjs: runs an N-step transform workflow in-process with the SQLite store and prints
// the engine time per step as JSON. Validation is done before the clock starts: this measures the run loop.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// shape "steps": N distinct transform steps in the file; "items": one for_each transform over N items.
const [root, stepsArg, shape = 'steps'] = process.argv.slice(2);
const steps = Number(stepsArg);
const { loadWorkflow, openSqliteStore, runWorkflow } = await import(join(root, 'dist', 'index.mjs'));
const dir = mkdtempSync(join(tmpdir(), 'flow-bench-engine-'));
let yaml = 'steps:\n  - { id: s0, type: transform, config: { value: 0 } }\n';
if (shape === 'items')
  yaml += `  - { id: s1, type: transform, for_each: "\${{ [1..${steps}] }}", max_concurrency: 1, config: { value: "\${{ item + 1 }}" } }\n`;
else for (let i = 1; i < steps; i++) yaml += `  - { id: s${i}, type: transform, config: { value: "\${{ previous + 1 }}" } }\n`;
const file = join(dir, 'transforms.yaml');
writeFileSync(file, yaml);
const loaded = await loadWorkflow(file);
const peakAfterLoadMb = process.resourceUsage().maxRSS / 1024;
const store = openSqliteStore(join(dir, 'state.db'));
const start = process.hrtime.bigint();
const outcome = await runWorkflow(loaded, { store, cwd: dir });
const ms = Number(process.hrtime.bigint() - start) / 1e6;
store.close();
const last = shape === 'items' ? outcome.results.get('s1')?.output?.at(-1) : outcome.results.get(`s${steps - 1}`)?.output;
if (outcome.status !== 'succeeded' || last !== (shape === 'items' ? steps + 1 : steps - 1))
  throw new Error(`the run did not compute the last value (${last})`);
const peakAfterRunMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ steps, ms, perStepMs: ms / steps, peakAfterLoadMb, peakAfterRunMb })}\n`);
