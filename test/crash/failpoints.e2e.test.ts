import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CrashResult,
  countByKey,
  crashAndResume,
  readSide,
  runFlow,
  type Snapshot,
  sideEffect,
  sideHas,
  violations,
} from '../helpers/crash.js';

// Crash safety, proven by killing real `flow` processes: at each failpoint (flow SIGKILLs itself at that durable
// boundary), by SIGKILL from outside while steps run, and by SIGINT/SIGTERM; then `flow resume` finishes the run.
// Every shell execution appends `<key> <run attempt>` to side.log, so re-runs are counted.

const shell = (key: string, rest: string, before = '') => `'${before}${sideEffect(key)}; ${rest}'`;

// A shell step, a parallel group of three, a for_each of 4 items two at a time, a for_each of 4 one at a time,
// transforms between them (their records are batched with the next durable one), named outputs.
const WORKFLOW = `steps:
  - id: prep
    type: shell
    config:
      run: |
        ${sideEffect('prep')}
        echo prepared
    outputs: { line: "\${{ $trim(output.stdout) }}" }
  - id: t1
    type: transform
    config: { value: "\${{ steps.prep.outputs.line & '!' }}" }
  - id: par
    parallel:
      steps:
        - { id: pa, type: shell, config: { run: ${shell('pa', 'echo v=A >> "$FLOW_OUTPUT"')} } }
        - { id: pb, type: shell, config: { run: ${shell('pb', 'echo v=B >> "$FLOW_OUTPUT"')} } }
        - { id: pc, type: shell, config: { run: ${shell('pc', 'echo v=C >> "$FLOW_OUTPUT"')} } }
  - id: t2
    type: transform
    config: { value: "\${{ [steps.pa.output.v, steps.pb.output.v, steps.pc.output.v, 'D'] }}" }
  - id: each2
    type: shell
    for_each: "\${{ steps.t2.output }}"
    max_concurrency: 2
    config: { run: ${shell('each2[${{ index }}]', 'echo "v=${{ item }}${{ index }}" >> "$FLOW_OUTPUT"')} }
    outputs: { v: "\${{ output.v }}" }
  - id: each1
    type: shell
    for_each: [w, x, y, z]
    config: { run: ${shell('each1[${{ index }}]', 'echo "v=${{ item }}" >> "$FLOW_OUTPUT"')} }
  - id: t3
    type: transform
    config: { value: "\${{ $join(steps.each1.output.v, '') }}" }
  - id: t4
    type: transform
    config: { value: "\${{ $count(steps.each2.output) }}" }
  - id: fin
    type: shell
    config: { run: ${shell('fin', 'echo "v=${{ steps.t3.output }}-${{ steps.t4.output }}" >> "$FLOW_OUTPUT"')} }
    outputs: { v: "\${{ output.v }}" }
outputs:
  line: "\${{ steps.prep.outputs.line }}"
  t1: "\${{ steps.t1.output }}"
  t2: "\${{ steps.t2.output }}"
  each2: "\${{ steps.each2.output.v }}"
  each1: "\${{ steps.each1.output.v }}"
  fin: "\${{ steps.fin.outputs.v }}"
`;

// Steps that wait for a gate (the file `go`; at most ~30 s, so a failed test leaves no process behind for long):
// a stop while each2[0] and each2[1] run finds them running, always. With `ignoreTerm`, they note a SIGTERM in
// the file `got-term` and go on waiting. The loop forks nothing but `sleep`: a `for i in $(seq ...)` made a subshell
// whose TERM (traps do not reach it) ended the loop early, and the step with it, in a red CI.
const gated = (ignoreTerm: boolean) => `steps:
  - { id: prep, type: shell, config: { run: ${shell('prep', 'echo v=P >> "$FLOW_OUTPUT"')} } }
  - id: par
    parallel:
      steps:
        - { id: pa, type: shell, config: { run: ${shell('pa', 'echo v=A >> "$FLOW_OUTPUT"')} } }
        - { id: pb, type: shell, config: { run: ${shell('pb', 'echo v=B >> "$FLOW_OUTPUT"')} } }
  - id: each2
    type: shell
    for_each: [a, b, c, d]
    max_concurrency: 2
    config: { run: ${shell('each2[${{ index }}]', 'i=0; while [ $i -lt 3000 ] && [ ! -e go ]; do sleep 0.01 || true; i=$((i + 1)); done; echo "v=${{ item }}" >> "$FLOW_OUTPUT"', ignoreTerm ? 'trap "touch got-term" TERM; ' : '')} }
  - id: t1
    type: transform
    config: { value: "\${{ $join(steps.each2.output.v, '') }}" }
  - { id: fin, type: shell, config: { run: ${shell('fin', 'echo "v=${{ steps.t1.output }}" >> "$FLOW_OUTPUT"')} } }
outputs:
  v: "\${{ steps.fin.output.v }}"
  par: "\${{ steps.par.output.pa.v & steps.par.output.pb.v }}"
`;

const SHELL_KEYS = ['prep', 'pa', 'pb', 'pc', ...[0, 1, 2, 3].map((i) => `each2[${i}]`), ...[0, 1, 2, 3].map((i) => `each1[${i}]`), 'fin'];
const GATED_KEYS = ['prep', 'pa', 'pb', ...[0, 1, 2, 3].map((i) => `each2[${i}]`), 'fin'];

interface Baseline {
  outputs: unknown;
  keys: string[];
}

/** An uninterrupted run of the workflow: its outputs, and the side effects it had (each once). */
async function baseline(workflow: string, gateOpen: boolean): Promise<Baseline> {
  const dir = mkdtempSync(join(tmpdir(), 'flow-crash-base-'));
  writeFileSync(join(dir, 'w.yaml'), workflow);
  if (gateOpen) writeFileSync(join(dir, 'go'), '');
  const r = await runFlow(['run', 'w.yaml'], dir);
  expect(r.code, r.stderr).toBe(0);
  const keys = readSide(dir).map((l) => l.key);
  expect(new Set(keys).size).toBe(keys.length);
  return { outputs: JSON.parse(r.stdout), keys: keys.sort() };
}

let workflowBaseline: Promise<Baseline> | undefined;
/** WORKFLOW's baseline, computed once for the describes that use it. */
const baselineOfWorkflow = () => {
  workflowBaseline ??= baseline(WORKFLOW, false);
  return workflowBaseline;
};

/** The invariants every crash test holds a result to. */
function expectCrashSafe(r: CrashResult, base: Baseline): void {
  const context = `${r.dir}\n--- first run:\n${r.first.stderr}\n${r.resumes.map((x, i) => `--- resume ${i + 1} (exit ${x.code}):\n${x.stderr}`).join('\n')}`;
  expect(r.runId, context).toBeDefined();
  expect(r.resumes.length, context).toBeGreaterThan(0);
  const last = r.resumes.at(-1)!;
  expect(last.code, context).toBe(0);
  expect(JSON.parse(last.stdout), context).toEqual(base.outputs);
  expect(violations(r, base.keys), context).toEqual([]);
  expect(r.integrity).toBe('ok');
  expect(r.final.run?.status).toBe('succeeded');
  expect(r.final.run?.attempt).toBe(1 + r.resumes.length);
  expect(r.final.run?.attempt).toBeGreaterThanOrEqual(2);
  expect(r.final.run?.outputs).toEqual(base.outputs);
  for (const key of base.keys) expect(r.final.steps.get(key), key).toBe('succeeded');
}

/** The for_each items of `stepId` recorded as succeeded. */
const succeededItems = (snap: Snapshot, stepId: string) =>
  [...snap.steps].filter(([k, s]) => s === 'succeeded' && k.startsWith(`${stepId}[`)).map(([k]) => k);
const hasAttempt = (snap: Snapshot, key: string) => snap.attempts.some((a) => a.key === key);

interface FailpointCase {
  failpoint: string;
  /** What the state file must show at the kill: proof that the kill happened where this case says. */
  atKill: (snap: Snapshot) => void;
  /** Exact run counts this case implies, beyond the general invariants. */
  runs?: Record<string, number>;
}

const CASES: FailpointCase[] = [
  {
    failpoint: 'before-attempt-record',
    // The first shell step's attempt was never recorded, and its process never started.
    atKill: (s) => expect(s.attempts).toEqual([]),
    runs: { prep: 1 },
  },
  {
    failpoint: 'before-attempt-record@3',
    // pb inside the parallel group: pa's attempt is on disk (it may be running), pb's and pc's are not.
    atKill: (s) => {
      expect(hasAttempt(s, 'pa')).toBe(true);
      expect(hasAttempt(s, 'pb') || hasAttempt(s, 'pc')).toBe(false);
    },
    runs: { prep: 1, pb: 1, pc: 1 },
  },
  {
    failpoint: 'before-attempt-record@7',
    // each2's third item, while the second may still run. The first item's result is committed with this attempt, or
    // earlier on a turn of the event loop: it may be on disk or not.
    atKill: (s) => {
      expect(hasAttempt(s, 'each2[0]') && hasAttempt(s, 'each2[1]')).toBe(true);
      expect(hasAttempt(s, 'each2[2]')).toBe(false);
    },
    runs: { 'each2[2]': 1, 'each2[3]': 1 },
  },
  {
    failpoint: 'after-attempt-record@1',
    // prep's attempt is on disk and its process never started: the resume records it interrupted and runs it once.
    atKill: (s) => {
      expect(s.attempts.map((a) => [a.key, a.status])).toEqual([['prep', 'running']]);
      expect(s.steps.size).toBe(0);
    },
    runs: { prep: 1 },
  },
  {
    failpoint: 'after-attempt-record@5',
    // each2's first item: what ran before it (the parallel group's three children, the transform t2) is on disk with
    // its attempt or before it, and none of it runs again.
    atKill: (s) => {
      for (const key of ['prep', 'pa', 'pb', 'pc', 't2']) expect(s.steps.get(key), key).toBe('succeeded');
      expect(s.attempts.filter((a) => a.key === 'each2[0]').map((a) => a.status)).toEqual(['running']);
    },
    runs: { prep: 1, pa: 1, pb: 1, pc: 1, 'each2[0]': 1 },
  },
  {
    failpoint: 'after-attempt-record@10',
    // each1's second item (one at a time): its attempt and the first item's result were one commit, so the first is
    // on disk, succeeded, before the second starts; the second never ran.
    atKill: (s) => {
      expect(succeededItems(s, 'each2')).toHaveLength(4);
      expect(succeededItems(s, 'each1')).toEqual(['each1[0]']);
      expect(s.attempts.filter((a) => a.key === 'each1[1]').map((a) => a.status)).toEqual(['running']);
    },
    runs: { 'each1[0]': 1, 'each1[1]': 1, 'each1[2]': 1 },
  },
  {
    failpoint: 'after-step-exit',
    // prep's process exited; its result was not recorded: it runs again (at-least-once).
    atKill: (s) => {
      expect(s.attempts.map((a) => [a.key, a.status])).toEqual([['prep', 'running']]);
      expect(s.steps.size).toBe(0);
    },
    runs: { prep: 2 },
  },
  {
    failpoint: 'after-step-exit@3',
    // The first of the parallel group's children to exit; its siblings are started, none is recorded done.
    atKill: (s) => {
      expect(s.steps.get('prep')).toBe('succeeded');
      expect(['pa', 'pb', 'pc'].filter((k) => s.steps.has(k))).toEqual([]);
    },
  },
  {
    failpoint: 'after-step-exit@11',
    // each1's first item (one at a time): each2 is done, each1[0] exited unrecorded.
    atKill: (s) => {
      expect(succeededItems(s, 'each2')).toHaveLength(4);
      expect(succeededItems(s, 'each1')).toEqual([]);
    },
    runs: { 'each1[0]': 2, 'each1[1]': 1, 'each2[0]': 1 },
  },
  // An item's or a child's result is committed with the next attempt that starts, or on the event loop's next turn
  // if that comes first (the other items and children run meanwhile): at these failpoints, the result of the one that
  // just ended may be on disk or not, and if not it runs again.
  {
    failpoint: 'between-items',
    // The first item of each2 (two at a time) to end; no third item has started.
    atKill: (s) => {
      expect(succeededItems(s, 'each2').length).toBeLessThanOrEqual(1);
      expect(hasAttempt(s, 'each2[2]')).toBe(false);
    },
    runs: { 'each2[2]': 1, 'each2[3]': 1 },
  },
  {
    failpoint: 'between-items@2',
    // Both first items have ended (the first worker may have taken item 2 meanwhile); nobody took item 3.
    atKill: (s) => {
      expect(hasAttempt(s, 'each2[0]') && hasAttempt(s, 'each2[1]')).toBe(true);
      expect(hasAttempt(s, 'each2[3]')).toBe(false);
    },
    runs: { 'each2[3]': 1 },
  },
  {
    failpoint: 'between-items@6',
    // each1 (one at a time): its first item is on disk (committed with the second's attempt), the third never started.
    atKill: (s) => {
      expect(succeededItems(s, 'each2')).toHaveLength(4);
      expect(succeededItems(s, 'each1')).toContain('each1[0]');
      expect(hasAttempt(s, 'each1[1]')).toBe(true);
      expect(hasAttempt(s, 'each1[2]')).toBe(false);
    },
    runs: { 'each1[0]': 1, 'each1[2]': 1 },
  },
  {
    failpoint: 'in-parallel-group@1',
    // One child of the group has ended; at most its result is on disk.
    atKill: (s) => {
      expect(['pa', 'pb', 'pc'].filter((k) => s.steps.get(k) === 'succeeded').length).toBeLessThanOrEqual(1);
      expect(s.steps.has('par')).toBe(false);
    },
  },
  {
    failpoint: 'in-parallel-group@3',
    // All three children have ended (those that ended in one turn of the event loop have their results committed
    // together, after it); the group's own record (batched) is not on disk.
    atKill: (s) => {
      expect(['pa', 'pb', 'pc'].filter((k) => hasAttempt(s, k))).toEqual(['pa', 'pb', 'pc']);
      expect(s.steps.has('par')).toBe(false);
    },
  },
  {
    failpoint: 'in-batch-commit',
    // prep's output line and its result were one batch: rolled back together, so prep runs again.
    atKill: (s) => {
      expect(s.attempts.map((a) => [a.key, a.status])).toEqual([['prep', 'running']]);
      expect(s.steps.size).toBe(0);
    },
    runs: { prep: 2 },
  },
  {
    failpoint: 'in-batch-commit@2',
    // The batch after prep's: prep's result is on disk, and what this batch held (t1's records, pa's attempt, and
    // with them perhaps the results before it) is gone as one.
    atKill: (s) => {
      expect(s.steps.get('prep')).toBe('succeeded');
      expect(hasAttempt(s, 'fin')).toBe(false);
    },
    runs: { prep: 1, fin: 1 },
  },
  {
    failpoint: 'in-run-finish',
    // Every step is recorded, the last one too (its result is committed before the run's end); the run's end is not.
    atKill: (s) => {
      expect(s.run?.status).toBe('running');
      for (const key of SHELL_KEYS) expect(s.steps.get(key), key).toBe('succeeded');
    },
  },
];

describe.concurrent('crash at each failpoint, then flow resume', () => {
  let base: Baseline;
  beforeAll(async () => {
    base = await baselineOfWorkflow();
    expect(base.keys).toEqual([...SHELL_KEYS].sort());
  });

  it.for(CASES)('FLOW_FAILPOINT=$failpoint', { timeout: 60_000 }, async (c) => {
    const r = await crashAndResume({ workflow: WORKFLOW, failpoint: c.failpoint });
    // It really died at the failpoint: no failpoint reached means the run ends by itself, and the test fails here.
    expect(r.first.code, r.first.stderr).toBeNull();
    expect(r.first.signal).toBe('SIGKILL');
    expect(r.snapshots).toHaveLength(1);
    const atKill = r.snapshots[0]!;
    expect(atKill.run?.status).toBe('running');
    expect(atKill.run?.attempt).toBe(1);
    c.atKill(atKill);
    expectCrashSafe(r, base);
    const counts = countByKey(r.side);
    for (const [key, n] of Object.entries(c.runs ?? {})) expect(counts.get(key), key).toBe(n);
    expect(r.resumes[0]!.stderr).toMatch(/flow: resuming run \S+ \(attempt 2\)/);
  });
});

describe.concurrent('crash at a failpoint, then again at a failpoint of the resume', () => {
  let base: Baseline;
  beforeAll(async () => {
    base = await baselineOfWorkflow();
  });

  it.for([
    ['after-step-exit@3', 'before-attempt-record@2'],
    ['between-items@2', 'in-batch-commit'],
    ['in-batch-commit@2', 'after-step-exit@3'],
    ['after-step-exit@16', 'in-run-finish'],
  ])('FLOW_FAILPOINT=%s, then %s in the resume', { timeout: 60_000 }, async ([first, second]) => {
    const r = await crashAndResume({ workflow: WORKFLOW, failpoint: first, resumeFailpoints: [second] });
    expect(r.first.signal, r.first.stderr).toBe('SIGKILL');
    expect(r.resumes.map((x) => x.signal)).toEqual(['SIGKILL', null]);
    expect(r.snapshots.map((s) => [s.run?.status, s.run?.attempt])).toEqual([
      ['running', 1],
      ['running', 2],
    ]);
    expectCrashSafe(r, base);
    expect(r.final.run?.attempt).toBe(3);
  });
});

describe.concurrent('stopped from outside while steps run, then flow resume', () => {
  let base: Baseline;
  beforeAll(async () => {
    base = await baseline(gated(false), true);
    expect(base.keys).toEqual([...GATED_KEYS].sort());
    // Steps that ignore SIGTERM have the same effects and outputs.
    expect(await baseline(gated(true), true)).toEqual(base);
  });
  const openGate = (dir: string) => writeFileSync(join(dir, 'go'), '');
  // Both items have started (and had their effect): each waits at the gate now.
  const bothWaiting = (dir: string) => sideHas('each2[0]')(dir) && sideHas('each2[1]')(dir);
  const onceEach = () => Object.fromEntries(base.keys.map((k) => [k, 1]));

  /** At the stop, each2[0] and each2[1] (and nothing else) were running, recorded as `status`. */
  const expectTwoItemsStopped = (r: CrashResult, status: string) => {
    const atKill = r.snapshots[0]!;
    const notDone = atKill.attempts.filter((a) => a.status !== 'succeeded').map((a) => [a.key, a.status]);
    expect(notDone.sort()).toEqual([
      ['each2[0]', status],
      ['each2[1]', status],
    ]);
    expect(succeededItems(atKill, 'each2')).toEqual([]);
    for (const key of ['prep', 'pa', 'pb']) expect(atKill.steps.get(key)).toBe('succeeded');
  };

  it.for([
    ['SIGKILL', null, 'running'],
    ['SIGINT', 130, 'interrupted'],
    ['SIGTERM', 143, 'interrupted'],
  ] as const)('%s while two for_each items run', { timeout: 60_000 }, async ([signal, code, recorded]) => {
    const r = await crashAndResume({ workflow: gated(false), kill: { signal, when: bothWaiting }, beforeResume: openGate });
    expect(r.first.code, r.first.stderr).toBe(code);
    expect(r.first.signal).toBe(signal === 'SIGKILL' ? 'SIGKILL' : null);
    // A signal is recorded (the run and its running steps interrupted); a SIGKILL leaves them as they were.
    expect(r.snapshots[0]!.run?.status).toBe(recorded);
    expectTwoItemsStopped(r, recorded);
    if (signal !== 'SIGKILL') expect(r.first.stderr).toMatch(/\[each2\[1\]\] interrupted/);
    expectCrashSafe(r, base);
    // The two items that were running ran again; everything else ran once.
    expect(Object.fromEntries(countByKey(r.side))).toEqual({ ...onceEach(), 'each2[0]': 2, 'each2[1]': 2 });
  });

  it('a second SIGINT while the steps ignore SIGTERM: exit 130 at once, nothing recorded, then resumed', { timeout: 60_000 }, async () => {
    const r = await crashAndResume({
      workflow: gated(true),
      // The second Ctrl-C once the steps have seen the first one's SIGTERM (flow would wait 25 s before SIGKILL).
      kill: { signal: 'SIGINT', when: bothWaiting, then: { signal: 'SIGINT', when: (dir) => existsSync(join(dir, 'got-term')) } },
      beforeResume: openGate,
      // Under load the second signal may come more than the default 2 s later, when flow has killed the steps.
      env: { FLOW_KILL_GRACE: '25s' },
    });
    expect(r.first.code, r.first.stderr).toBe(130);
    // flow left at once: the run and its attempts stay as they were, as after a crash, and the dead owner's run is taken over.
    expect(r.snapshots[0]!.run?.status).toBe('running');
    expectTwoItemsStopped(r, 'running');
    expect(r.resumes[0]!.stderr).toMatch(/2 step attempt\(s\) were running when the last driver stopped/);
    expectCrashSafe(r, base);
    expect(Object.fromEntries(countByKey(r.side))).toEqual({ ...onceEach(), 'each2[0]': 2, 'each2[1]': 2 });
  });

  it('SIGKILL of the run, then SIGKILL of its resume at the same place, then a resume that finishes', { timeout: 60_000 }, async () => {
    const r = await crashAndResume({
      workflow: gated(false),
      kill: { when: bothWaiting },
      // The resume runs the two interrupted items again; it is killed once both are running again.
      resumeKills: [{ when: (dir) => sideHas('each2[0]', 2)(dir) && sideHas('each2[1]', 2)(dir) }],
      beforeResume: (dir, i) => i === 1 && openGate(dir),
    });
    expect(r.first.signal).toBe('SIGKILL');
    expect(r.resumes.map((x) => x.signal)).toEqual(['SIGKILL', null]);
    expect(r.snapshots.map((s) => [s.run?.status, s.run?.attempt])).toEqual([
      ['running', 1],
      ['running', 2],
    ]);
    expectCrashSafe(r, base);
    expect(r.final.run?.attempt).toBe(3);
    // Each of the two items was running at both kills: three executions, the last one recorded.
    expect(Object.fromEntries(countByKey(r.side))).toEqual({ ...onceEach(), 'each2[0]': 3, 'each2[1]': 3 });
    expect(r.final.attempts.filter((a) => a.key === 'each2[0]').map((a) => [a.attempt, a.status, a.runAttempt])).toEqual([
      [1, 'interrupted', 1],
      [2, 'interrupted', 2],
      [3, 'succeeded', 3],
    ]);
  });
});

// Found by these tests. Outputs are recorded with secret values masked (`***`): restored as recorded, a later step
// would read `***` where an uninterrupted run gives it the secret. Such a result is marked, and its step runs again.
describe('a succeeded step whose output held a secret', () => {
  const workflow = `secrets: [CRASH_TEST_TOKEN]
steps:
  - { id: login, type: shell, config: { run: 'echo "token=$CRASH_TEST_TOKEN" >> "$FLOW_OUTPUT"' } }
  - id: use
    type: shell
    env: { TOKEN: "\${{ steps.login.output.token }}" }
    config: { run: 'printf "%s" "$TOKEN" > used.txt' }
`;
  const env = { CRASH_TEST_TOKEN: 's3cr3t-value' };
  let resumed: CrashResult;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flow-crash-base-'));
    writeFileSync(join(dir, 'w.yaml'), workflow);
    expect((await runFlow(['run', 'w.yaml'], dir, undefined, undefined, env)).code).toBe(0);
    expect(readFileSync(join(dir, 'used.txt'), 'utf8')).toBe('s3cr3t-value');
    // Killed before `use` starts: `login` is recorded (masked), and restored by the resume.
    resumed = await crashAndResume({ workflow, failpoint: 'before-attempt-record@2', env });
    expect(resumed.first.signal).toBe('SIGKILL');
    expect(resumed.resumes.map((x) => x.code)).toEqual([0]);
    expect(resumed.resumes[0]!.stderr).not.toContain('[login] succeeded earlier; output restored');
  }, 60_000);

  it('runs again on resume, so the later step gets the secret, as in an uninterrupted run', () => {
    expect(readFileSync(join(resumed.dir, 'used.txt'), 'utf8')).toBe('s3cr3t-value');
  });
});
