import { describe, expect, it } from 'vitest';
import { codesAt, validateText } from '../../helpers/validate.js';

const wf = (steps: string, extra = '') => `${extra}steps:\n${steps}`;
const t = (id: string, value: string) => `  - id: ${id}\n    type: transform\n    config: { value: "${value}" }\n`;

describe('step references', () => {
  it('accepts a reference to a step that finished earlier, also from inside groups', async () => {
    const text = wf(
      t('a', '1') +
        '  - id: g\n    parallel:\n      steps:\n' +
        '        - id: b\n          type: transform\n          config: { value: "${{ steps.a.output }}" }\n' +
        '        - id: seq\n          steps:\n' +
        '            - id: c\n              type: transform\n              config: { value: "${{ steps.a.output }}" }\n' +
        '            - id: d\n              type: transform\n              config: { value: "${{ steps.c.output }}" }\n' +
        t('e', '${{ steps.b.output }} ${{ steps.d.output }} ${{ steps.g.status }}'),
    );
    expect(await validateText(text)).toEqual([]);
  });

  it('rejects a later step, a parallel sibling, a sibling subtree and the step itself', async () => {
    const text = wf(
      t('a', '${{ steps.z.output }}') + // line 4: later
        '  - id: g\n    parallel:\n      steps:\n' +
        '        - id: b\n          type: transform\n          config: { value: "${{ steps.c.output }}" }\n' + // line 10: sibling
        '        - id: seq\n          steps:\n' +
        '            - id: c\n              type: transform\n              config: { value: "${{ steps.b.output }}" }\n' + // line 15: sibling subtree
        t('z', '${{ steps.z.output }}'), // line 18: itself
    );
    const diagnostics = await validateText(text);
    expect(codesAt(diagnostics)).toEqual(['step-not-finished@4', 'step-not-finished@10', 'step-not-finished@15', 'step-not-finished@18']);
    expect(diagnostics[1]!.message).toContain('parallel');
    expect(diagnostics[3]!.message).toContain('its own result');
  });

  it('points at the reference inside the string', async () => {
    const [d] = await validateText(wf(t('a', 'x ${{ steps.nope.output }}')));
    expect(d).toMatchObject({ code: 'unknown-step', line: 4 });
    const line = '    config: { value: "x ${{ steps.nope.output }}" }';
    expect(d!.column).toBe(line.indexOf('steps.nope') + 1);
    expect(d!.length).toBe('steps'.length);
  });

  it('lets handlers read main steps, and step outputs read their own output', async () => {
    const text =
      wf(`  - id: a\n    type: shell\n    config: { run: "true" }\n    outputs: { code: "\${{ output.exit_code }}" }\n`) +
      `on_failure:\n${t('tell', '${{ steps.a.status }} ${{ steps.a.outputs.code }}')}`;
    expect(await validateText(text)).toEqual([]);
  });

  it('checks named outputs exist', async () => {
    const text = wf(
      `  - id: a\n    type: shell\n    config: { run: "true" }\n    outputs: { code: "\${{ output.exit_code }}" }\n` +
        t('b', '${{ steps.a.outputs.cod }}'),
    );
    const diagnostics = await validateText(text);
    expect(codesAt(diagnostics)).toEqual(['unused-output@5', 'unknown-output@8']);
    expect(diagnostics[1]!.hint).toBe("did you mean 'code'?");
  });

  it('keeps item and index to for_each steps', async () => {
    const ok = wf(`  - id: a\n    for_each: [1, 2]\n    type: transform\n    config: { value: "\${{ item }}-\${{ index }}" }\n`);
    expect(await validateText(ok)).toEqual([]);
    const bad = wf(`  - id: a\n    for_each: [1, 2]\n    if: \${{ item = 1 }}\n    type: transform\n    config: { value: 1 }\n`);
    expect(codesAt(await validateText(bad))).toEqual(['item-outside-for-each@4']);
  });

  it('checks inputs, secrets, run fields and unknown roots', async () => {
    const text = wf(
      t('a', '${{ inputs.nme }} ${{ secrets.TOKEN }} ${{ run.idd }} ${{ stepz.a }}'),
      'inputs:\n  name: { type: string }\nsecrets: [TOKN]\n',
    );
    const diagnostics = await validateText(text);
    expect(diagnostics.map((d) => [d.code, d.hint])).toEqual([
      ['unused-input', 'read it as ${{ inputs.name }}, or remove it'],
      ['unknown-input', "did you mean 'name'?"],
      ['unknown-secret', "did you mean 'TOKN'?"],
      ['unknown-name', "did you mean 'id'?"],
      ['unknown-name', "did you mean 'steps'?"],
    ]);
  });

  it('treats a bare if: as an expression', async () => {
    const text = wf(
      `${t('a', '1')}  - id: b\n    if: steps.a.output = 1 and steps.q.status\n    type: transform\n    config: { value: 1 }\n`,
    );
    expect(codesAt(await validateText(text))).toEqual(['unknown-step@6']);
  });

  it('lets a fallback read what finished before the step that names it, and that step', async () => {
    const text =
      wf(`${t('a', '1')}  - id: b\n    type: shell\n    on_error: { fallback: b_fallback }\n    config: { run: "false" }\n${t('c', '2')}`) +
      `fallbacks:\n${t('b_fallback', '${{ steps.a.output }} ${{ steps.b.error }} ${{ steps.c.output }}')}`;
    expect(codesAt(await validateText(text))).toEqual(['step-not-finished@15']);
  });

  it('rejects a fallback that is not declared under fallbacks', async () => {
    const text = wf(`  - id: b\n    type: shell\n    on_error: { fallback: rescue }\n    config: { run: "false" }\n`);
    expect(codesAt(await validateText(text))).toEqual(['unknown-step@4']);
  });
});

describe('warnings', () => {
  it('warns about an input never read and a named output never read', async () => {
    const text = wf(
      `  - id: a\n    type: shell\n    config: { run: "true" }\n    outputs: { code: "\${{ output.exit_code }}" }\n`,
      'inputs:\n  name: { type: string }\n',
    );
    const diagnostics = await validateText(text);
    expect(diagnostics.map((d) => `${d.severity}:${d.code}@${d.line}`)).toEqual(['warning:unused-input@2', 'warning:unused-output@7']);
  });

  it('counts an input step without required_fields as reading every input', async () => {
    const text = wf(`  - id: in\n    type: input\n`, 'inputs:\n  name: { type: string }\n');
    expect(await validateText(text)).toEqual([]);
  });
});
