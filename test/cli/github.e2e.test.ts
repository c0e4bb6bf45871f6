import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretForms } from '../../src/engine/masking.js';
import { flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';

const SECRET = 'tok-3xample/value+';

// The second step fails at line 7; it prints a workflow command, which must reach the runner inert.
const FAILING = `name: gh-e2e
secrets: [API_TOKEN]
steps:
  - id: greet
    type: shell
    config: { run: "echo hello; echo token=$API_TOKEN" }
  - id: broken
    type: shell
    config: { run: "echo '::warning::injected'; echo about to fail >&2; exit 3" }
`;

/** The lines from `::group::<id>` to its `::endgroup::`. */
function groupOf(lines: string[], id: string): string[] {
  const start = lines.indexOf(`::group::${id}`);
  expect(start, `no group for ${id}`).toBeGreaterThanOrEqual(0);
  return lines.slice(start, lines.indexOf('::endgroup::', start) + 1);
}

describe('flow run in GitHub Actions', () => {
  it('masks secrets first, groups each step’s output inert, annotates the failed step and appends the step summary', () => {
    const dir = tempDir('flow-gh-');
    writeFileSync(join(dir, 'w.yaml'), FAILING);
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '## Set up\n\n');
    const r = flow(['run', 'w.yaml'], dir, {
      GITHUB_ACTIONS: 'true',
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_WORKSPACE: dir,
      API_TOKEN: SECRET,
    });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');

    // add-mask for the secret and its encoded forms, before any other line; % escaped as the runner decodes it.
    const masks = lines.findIndex((l) => !l.startsWith('::add-mask::'));
    expect(new Set(lines.slice(0, masks))).toEqual(new Set(secretForms(SECRET).map((f) => `::add-mask::${f.replace(/%/g, '%25')}`)));
    expect(lines.slice(masks).some((l) => l.includes(SECRET))).toBe(false);

    const greet = groupOf(lines, 'greet');
    const token = /^::stop-commands::([0-9a-f]{32})$/.exec(greet[1]!)![1]!;
    expect(greet).toEqual([
      '::group::greet',
      `::stop-commands::${token}`,
      'hello',
      'token=***',
      `::${token}::`,
      expect.stringMatching(/^\[greet\] succeeded in \d+m?s$/),
      '::endgroup::',
    ]);
    const broken = groupOf(lines, 'broken');
    expect(broken.slice(0, 5)).toEqual([
      '::group::broken',
      `::stop-commands::${token}`,
      '::warning::injected',
      'about to fail',
      `::${token}::`,
    ]);
    expect(broken[5]).toMatch(/^\[broken\] failed in \d+m?s: exit:3: /);
    // The step's own ::warning:: is nowhere but between stop-commands and its resume line.
    expect(lines.filter((l) => l === '::warning::injected')).toHaveLength(1);

    const annotation = lines.find((l) => l.startsWith('::error title=step broken failed,'));
    expect(annotation).toMatch(
      /^::error title=step broken failed,file=w\.yaml,line=7,col=5::exit:3: .*%0A::warning::injected%0Aabout to fail$/,
    );
    expect(lines.indexOf(annotation!)).toBeGreaterThan(lines.indexOf('::endgroup::', lines.indexOf('::group::broken')));
    expect(lines.at(-1)).toMatch(
      /^::error title=flow run failed,file=w\.yaml::run \w+ failed: exit:3: .*%0Ato continue it: flow resume \w+/,
    );

    const text = readFileSync(summary, 'utf8');
    expect(text.startsWith('## Set up\n\n')).toBe(true);
    expect(text).toContain('\n### flow: gh-e2e failed\n');
    const rows = text.split('\n').filter((l) => l.startsWith('| '));
    expect(rows.slice(0, 2)).toEqual(['| Step | Status | Duration | Attempts |', '| --- | --- | --- | --- |']);
    expect(rows.slice(2)).toEqual([
      expect.stringMatching(/^\| greet \| succeeded \| \d+m?s \| 1 \|$/),
      expect.stringMatching(/^\| broken \| failed \(exit:3\) \| \d+m?s \| 1 \|$/),
    ]);
    expect(text.includes(SECRET)).toBe(false);
  });

  it('with --reporter github outside Actions: the same commands, no ::add-mask:: showing the secret, stdout left to the outputs', () => {
    const dir = tempDir('flow-gh-');
    writeFileSync(
      join(dir, 'w.yaml'),
      `secrets: [API_TOKEN]
steps:
  - { id: greet, type: shell, config: { run: "echo token=$API_TOKEN" } }
outputs: { said: "\${{ steps.greet.output.stdout }}" }
`,
    );
    // Emptied, in case this test itself runs in GitHub Actions.
    const r = flow(['run', 'w.yaml', '--reporter', 'github'], dir, { GITHUB_ACTIONS: '', GITHUB_STEP_SUMMARY: '', API_TOKEN: SECRET });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(groupOf(lines, 'greet')).toContain('token=***');
    expect(r.stderr).not.toContain('::add-mask::');
    expect(r.stderr).not.toContain(SECRET);
    expect(JSON.parse(r.stdout)).toEqual({ said: 'token=***\n' });
  });
});
