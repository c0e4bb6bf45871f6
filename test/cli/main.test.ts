import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CommandIO } from '../../src/cli/io.js';

const capture = (overrides: Partial<CommandIO> = {}) => {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIO = { cwd: process.cwd(), isTTY: false, stdout: (t) => out.push(t), stderr: (t) => err.push(t), ...overrides };
  return { io, out, err };
};

describe('main', () => {
  it('turns an unexpected exception into an internal-error message and exit 70', async () => {
    const { io, err } = capture({
      stdout: () => {
        throw new TypeError('stdout exploded');
      },
    });
    const code = await main(['node', 'flow', 'schema'], io);
    expect(code).toBe(70);
    expect(err.join('\n')).toMatch(/^flow: internal error \(this is a bug in flow\): stdout exploded/);
    expect(err.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('runs a command in-process with injected streams', async () => {
    const { io, out } = capture();
    expect(await main(['node', 'flow', 'schema'], io)).toBe(0);
    expect(JSON.parse(out.join('\n')).title).toBe('flow workflow');
  });
});
