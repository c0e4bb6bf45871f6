// Child of bench/engine.mjs: runs an N-step transform workflow in-process with the SQLite store and prints
// the engine time per step as JSON. Validation is done before the clock starts: this measures the run loop.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [root, stepsArg] = process.argv.slice(2);
const steps = Number(stepsArg);
const { loadWorkflow, openSqliteStore, runWorkflow } = await import(join(root, 'dist', 'index.js'));
const dir = mkdtempSync(join(tmpdir(), 'flow-bench-engine-'));
let yaml = 'steps:\n  - { id: s0, type: transform, config: { value: 0 } }\n';
for (let i = 1; i < steps; i++) yaml += `  - { id: s${i}, type: transform, config: { value: "\${{ previous + 1 }}" } }\n`;
const file = join(dir, 'transforms.yaml');
writeFileSync(file, yaml);
const loaded = await loadWorkflow(file);
const peakAfterLoadMb = process.resourceUsage().maxRSS / 1024;
const store = openSqliteStore(join(dir, 'state.db'));
const start = process.hrtime.bigint();
const outcome = await runWorkflow(loaded, { store, cwd: dir });
const ms = Number(process.hrtime.bigint() - start) / 1e6;
store.close();
if (outcome.status !== 'succeeded' || outcome.results.get(`s${steps - 1}`).output !== steps - 1) throw new Error(`the run did not compute ${steps - 1}`);
const peakAfterRunMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify({ steps, ms, perStepMs: ms / steps, peakAfterLoadMb, peakAfterRunMb }) + '\n');
