import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { crashAndResume, type KillPlan, readSide, runFlow, seededRandom, sideEffect, violations } from '../helpers/crash.js';

// SIGKILL at seeded random moments of a run whose steps sleep a little (and, sometimes, of its resumes too), then
// resume until done: whatever the moment, nothing recorded as succeeded runs again and the outputs are the same.
// FLOW_CRASH_SEED=n replays one seed.

const step = (key: string, sleep: number, rest: string) => `'${sideEffect(key)}; sleep ${sleep}; ${rest}'`;

// The sleeps alone take 0.05 + 0.08 + 3 * 0.04 + 3 * 0.02 + 0.02 = 0.33 s after the run has started: a kill
// within MAX_KILL_MS of the run's first line always finds it running.
const WORKFLOW = `steps:
  - { id: prep, type: shell, config: { run: ${step('prep', 0.05, 'echo v=P >> "$FLOW_OUTPUT"')} } }
  - id: par
    parallel:
      steps:
        - { id: pa, type: shell, config: { run: ${step('pa', 0.05, 'echo v=A >> "$FLOW_OUTPUT"')} } }
        - { id: pb, type: shell, config: { run: ${step('pb', 0.06, 'echo v=B >> "$FLOW_OUTPUT"')} } }
        - { id: pc, type: shell, config: { run: ${step('pc', 0.08, 'echo v=C >> "$FLOW_OUTPUT"')} } }
  - id: t1
    type: transform
    config: { value: "\${{ steps.pa.output.v & steps.pb.output.v & steps.pc.output.v }}" }
  - id: each
    type: shell
    for_each: [1, 2, 3, 4, 5, 6]
    max_concurrency: 2
    config: { run: ${step('each[${{ index }}]', 0.04, 'echo "v=${{ item * 2 }}" >> "$FLOW_OUTPUT"')} }
  - id: one
    type: shell
    for_each: [x, y, z]
    config: { run: ${step('one[${{ index }}]', 0.02, 'echo "v=${{ item }}" >> "$FLOW_OUTPUT"')} }
  - id: t2
    type: transform
    config: { value: "\${{ $sum(steps.each.output.v.$number()) }}" }
  - { id: fin, type: shell, config: { run: ${step('fin', 0.02, 'echo "v=${{ steps.t1.output }}${{ steps.t2.output }}" >> "$FLOW_OUTPUT"')} } }
outputs:
  fin: "\${{ steps.fin.output.v }}"
  each: "\${{ steps.each.output.v }}"
  one: "\${{ $join(steps.one.output.v) }}"
`;
const MAX_KILL_MS = 200;

// Seeds chosen for spread: 7 kills the run 2 ms in (during prep) and its first resume late; 4 kills the run late
// and its first two resumes early; 13 kills the run midway and each of three resumes within 25 ms of its start.
const seeds = process.env['FLOW_CRASH_SEED'] ? [Number(process.env['FLOW_CRASH_SEED'])] : [7, 4, 13];

describe.concurrent('SIGKILL at random moments, then flow resume until done', () => {
  let expected: { outputs: unknown; keys: string[] };
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flow-crash-base-'));
    writeFileSync(join(dir, 'w.yaml'), WORKFLOW);
    const r = await runFlow(['run', 'w.yaml'], dir);
    expect(r.code, r.stderr).toBe(0);
    expected = { outputs: JSON.parse(r.stdout), keys: readSide(dir).map((l) => l.key) };
    expect(expected.keys).toHaveLength(14);
  });

  it.for(seeds)('seed %i', { timeout: 60_000 }, async (seed) => {
    const random = seededRandom(seed);
    const kill: KillPlan = { afterMs: Math.floor(random() * MAX_KILL_MS) };
    // Each resume is killed too, half the time, at a moment that may come after it has finished.
    const resumeKills = [0, 1, 2].map((): KillPlan | undefined => (random() < 0.5 ? { afterMs: Math.floor(random() * 250) } : undefined));
    const r = await crashAndResume({ workflow: WORKFLOW, kill, resumeKills, maxResumes: 6 });
    const context = `seed ${seed}: kill after ${kill.afterMs} ms, resumes ${JSON.stringify(resumeKills)}, ${r.dir}\n${r.first.stderr}\n${r.resumes.map((x) => x.stderr).join('\n---\n')}`;
    expect(r.first.signal, context).toBe('SIGKILL');
    const last = r.resumes.at(-1)!;
    expect(last.code, context).toBe(0);
    expect(JSON.parse(last.stdout)).toEqual(expected.outputs);
    expect(violations(r, expected.keys), context).toEqual([]);
    expect(r.integrity).toBe('ok');
    expect(r.final.run?.status).toBe('succeeded');
    expect(r.final.run?.attempt).toBe(1 + r.resumes.length);
  });
});
