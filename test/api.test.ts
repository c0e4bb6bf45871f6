import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidWorkflowError, loadWorkflow, runWorkflow, validateWorkflow, type FlowEvent } from '../src/index.js';
import { tempDir, writeFile } from './helpers/engine.js';

const root = join(import.meta.dirname, '..');

// What a user of the library does: test their own workflow in vitest, replacing the outside world where they wish.
describe('the library API', () => {
  it('runs a workflow file with an injected http executor and reports through listeners', async () => {
    const dir = tempDir();
    const file = writeFile(
      dir,
      'w.yaml',
      'inputs:\n  city: { type: string }\nsteps:\n  - { id: weather, type: http, config: { url: "https://weather.invalid/${{ inputs.city }}" } }\n  - { id: say, type: transform, config: { value: "${{ steps.weather.output.json.sky }} in ${{ inputs.city }}" } }\noutputs: { line: "${{ steps.say.output }}" }\n',
    );
    const seen: string[] = [];
    const events: FlowEvent[] = [];
    const outcome = await runWorkflow(file, {
      inputs: { city: 'Oslo' },
      executors: {
        http: async (config) => {
          seen.push(String(config['url']));
          return { status: 200, json: { sky: 'snow' } };
        },
      },
      listeners: [(e) => events.push(e)],
      cwd: dir,
    });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.outputs).toEqual({ line: 'snow in Oslo' });
    expect(seen).toEqual(['https://weather.invalid/Oslo']);
    expect(events.map((e) => e.type)).toContain('run-finished');
  });

  it('keeps the real executors for types not overridden', async () => {
    const outcome = await runWorkflow(join(root, 'workflows', 'hello.yaml'), { inputs: { who: 'lib' }, cwd: tempDir() });
    expect(outcome.outputs).toEqual({ greeting: 'HELLO, LIB' });
  });

  it('validateWorkflow returns diagnostics; loadWorkflow throws on an invalid file', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'bad.yaml', 'steps:\n  - { id: a, type: shel }\n');
    const result = await validateWorkflow(file);
    expect(result.valid).toBe(false);
    expect(result.diagnostics[0]?.code).toBe('unknown-step-type');
    await expect(loadWorkflow(file)).rejects.toBeInstanceOf(InvalidWorkflowError);
  });

  it('is importable by its package name from the built files, with types', () => {
    const script = "import { runWorkflow, validateWorkflow } from 'flow'; console.log(typeof runWorkflow, typeof validateWorkflow);";
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('function function');
    const pkg = JSON.parse(
      spawnSync(process.execPath, ['-p', "JSON.stringify(require('./package.json').exports)"], { cwd: root, encoding: 'utf8' }).stdout,
    );
    expect(spawnSync('test', ['-f', join(root, pkg['.'].types)]).status).toBe(0);
  });
});
