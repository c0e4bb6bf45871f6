import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FLOW_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { waitFor } from '../helpers/terminal.js';

// A terminal emulator that rewraps lines when it narrows (tmux; .ci/run installs it): after a resize in the middle
// of a run, the screen and its scrollback hold every finished line once and no leftover of a spinner line.

const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
const session = `flow-resize-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-t', session, '-p', '-S', '-');

afterEach(() => {
  spawnSync('tmux', ['kill-session', '-t', session]);
});

const WORKFLOW = `steps:
  - id: group_with_a_rather_long_name_for_resizing
    parallel:
      steps:
        - { id: first_step_with_a_long_name_to_fill_the_line_of_a_terminal_well, type: shell, config: { run: "sleep 1.5" } }
        - { id: second_step_with_a_long_name_to_fill_the_line_of_a_terminal_well, type: shell, config: { run: "sleep 1.5" } }
        - { id: third_step, type: shell, config: { run: "sleep 1.5" } }
  - { id: after, type: shell, config: { run: "echo done" } }
`;

describe('the live view in a terminal that is resized', () => {
  it('leaves no spinner line behind and every finished line once, narrower and wider', async () => {
    const dir = tempDir('flow-resize-');
    writeFileSync(join(dir, 'w.yaml'), WORKFLOW);
    const command = `cd '${dir}' && env -u CI -u NO_COLOR -u GITHUB_ACTIONS TERM=xterm-256color '${process.execPath}' '${FLOW_BIN}' run w.yaml; echo "exit=$?"; sleep 60`;
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', command);
    await waitFor(() => SPINNER.test(screen()), 'the spinners');
    tmux('resize-window', '-t', session, '-x', '64');
    await new Promise((r) => setTimeout(r, 300));
    tmux('resize-window', '-t', session, '-x', '90');
    await waitFor(() => /exit=\d+/.test(screen()), 'the end of the run');
    const lines = screen()
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(lines.at(-1)).toBe('exit=0');
    expect(lines.filter((l) => SPINNER.test(l))).toEqual([]);
    for (const id of [
      'first_step_with_a_long_name_to_fill_the_line_of_a_terminal_well',
      'second_step_with_a_long_name_to_fill_the_line_of_a_terminal_well',
      'third_step',
      'after',
    ])
      expect(lines.filter((l) => new RegExp(`✔ ${id} `).test(l)).length, id).toBe(1);
    expect(lines.filter((l) => l.startsWith('flow: run ')).length).toBe(1);
    expect(lines.filter((l) => l.startsWith('▸ group_with_a_rather_long_name_for_resizing')).length).toBe(1);
  });
});
