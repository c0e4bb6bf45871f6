import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { defaultState, query, runIdOf, update } from '../helpers/state.js';

// A run of a text an earlier run kept the model of takes that model from the state file instead of validating the
// text again. To see which one a run used, the kept model is changed behind flow's back: a step that prints `kept`
// instead of `parsed` shows that the model came from the state file.

let dir: string;
const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
const WORKFLOW = 'steps:\n  - { id: say, type: shell, config: { run: "echo parsed" } }\n';

beforeEach(() => {
  dir = tempDir('flow-kept-');
});

/** Makes every model kept in the state file print `kept` where it printed `parsed`. */
function tamperKeptModels(): void {
  const changed = update(defaultState(dir), `UPDATE workflow_models SET model = replace(model, 'echo parsed', 'echo kept')`);
  expect(changed).toBeGreaterThan(0);
}

const said = (stderr: string) => /\[say\] \| (parsed|kept)/.exec(stderr)?.[1];

describe('a run of a workflow an earlier run kept', () => {
  it('takes the kept model, once the same text has run at the same path', () => {
    write('w.yaml', WORKFLOW);
    const first = flow(['run', 'w.yaml'], dir, { CI: 'true' });
    expect(first.code, first.stderr).toBe(0);
    expect(said(first.stderr)).toBe('parsed');
    tamperKeptModels();
    const second = flow(['run', 'w.yaml'], dir, { CI: 'true' });
    expect(second.code, second.stderr).toBe(0);
    expect(said(second.stderr)).toBe('kept');
  });

  it('validates again when the text, its path or the name it is given differs', () => {
    write('w.yaml', WORKFLOW);
    expect(flow(['run', 'w.yaml'], dir, { CI: 'true' }).code).toBe(0);
    tamperKeptModels();
    // The same text in another file, and the same file named another way: their models would hold other places.
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'w.yaml'), WORKFLOW);
    for (const name of ['sub/w.yaml', './w.yaml']) {
      const r = flow(['run', name], dir, { CI: 'true' });
      expect(r.code, r.stderr).toBe(0);
      expect(said(r.stderr), name).toBe('parsed');
    }
    // Another text: another key.
    write('w.yaml', `${WORKFLOW}# changed\n`);
    expect(said(flow(['run', 'w.yaml'], dir, { CI: 'true' }).stderr)).toBe('parsed');
  });

  it('validates again a workflow that names other files, which may have changed since', () => {
    write('child.yaml', 'steps:\n  - { id: inner, type: shell, config: { run: "true" } }\n');
    write('w.yaml', `${WORKFLOW}  - { id: nested, type: workflow, config: { path: child.yaml } }\n`);
    expect(flow(['run', 'w.yaml'], dir, { CI: 'true' }).code).toBe(0);
    tamperKeptModels();
    const again = flow(['run', 'w.yaml'], dir, { CI: 'true' });
    expect(again.code, again.stderr).toBe(0);
    expect(said(again.stderr)).toBe('parsed');
    // And what is checked again is the file as it is now: its child is gone.
    write('child.yaml', '');
    const gone = flow(['run', 'w.yaml'], dir, { CI: 'true' });
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('w.yaml');
  });

  it('keeps no model that its JSON would change: a second run of a file with .inf does what the first did', () => {
    write(
      'w.yaml',
      'steps:\n  - { id: t, type: transform, config: { value: .inf } }\n  - { id: say, type: shell, config: { run: "echo ${{ $string(steps.t.output) }}" } }\n',
    );
    for (const _ of [1, 2]) {
      const r = flow(['run', 'w.yaml'], dir, { CI: 'true' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Infinity or NaN');
    }
    expect(query(defaultState(dir), 'SELECT 1 FROM workflow_models')).toHaveLength(0);
  });

  it('keeps what a resume of a changed file checked under the name the file gives, not the run’s', () => {
    const path = join(dir, 'w.yaml');
    write('w.yaml', 'name: alpha\nsteps:\n  - { id: a, type: shell, config: { run: "test -f fixed" } }\n');
    const failed = flow(['run', path], dir, { CI: 'true' });
    expect(failed.code).toBe(1);
    write('w.yaml', 'name: beta\nsteps:\n  - { id: a, type: shell, config: { run: "true" } }\n');
    const resumed = flow(['resume', runIdOf(failed.stderr), '--allow-changed'], dir, { CI: 'true' });
    expect(resumed.code, resumed.stderr).toBe(0);
    // The resume kept the model of this text; a new run of it takes it, under the name the file gives.
    const again = flow(['run', path], dir, { CI: 'true' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/started: beta /);
  });

  it('keeps no model of an invalid workflow, and a dry run creates no state file', () => {
    write('bad.yaml', 'steps:\n  - { id: a, type: nope }\n');
    const bad = flow(['run', 'bad.yaml'], dir, { CI: 'true' });
    expect(bad.code).toBe(2);
    expect(existsSync(defaultState(dir))).toBe(false);
    write('w.yaml', WORKFLOW);
    expect(flow(['run', 'w.yaml', '--dry-run'], dir, { CI: 'true' }).code).toBe(0);
    expect(existsSync(defaultState(dir))).toBe(false);
    expect(flow(['run', 'w.yaml'], dir, { CI: 'true' }).code).toBe(0);
    expect(query(defaultState(dir), 'SELECT 1 FROM workflow_models')).toHaveLength(1);
    // Still invalid with a state file present: the kept models are of other texts.
    const again = flow(['run', 'bad.yaml'], dir, { CI: 'true' });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('nope');
    // A dry run never reads the state file's place, and a bad one is told after the workflow's faults, as before.
    expect(flow(['run', 'w.yaml', '--dry-run'], dir, { CI: 'true', FLOW_STATE: 'https://example.com/x' }).code).toBe(0);
    const both = flow(['run', 'bad.yaml', '--state', 'https://example.com/x'], dir, { CI: 'true' });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('nope');
  });

  it('leaves a state file of another schema as it was when the workflow is invalid', () => {
    const state = join(dir, 'old.db');
    const db = new Database(state);
    db.exec('CREATE TABLE kept_by_someone (x)');
    db.pragma('user_version = 1');
    db.close();
    write('bad.yaml', 'steps:\n  - { id: a, type: nope }\n');
    expect(flow(['run', 'bad.yaml', '--state', state], dir, { CI: 'true' }).code).toBe(2);
    expect(query<{ user_version: number }>(state, 'PRAGMA user_version')[0]?.user_version).toBe(1);
    expect(query(state, "SELECT name FROM sqlite_schema WHERE type = 'table'")).toEqual([{ name: 'kept_by_someone' }]);
    expect(query<{ journal_mode: string }>(state, 'PRAGMA journal_mode')[0]?.journal_mode).toBe('delete');
  });
});
