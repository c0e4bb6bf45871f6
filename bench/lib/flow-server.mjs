// Starts `flow serve` or `flow ui` of a build as a child process, for the benchmarks that talk to it over HTTP.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Resolves to the server's base URL (without the token) and a stop(), once it prints where it serves. */
export function startFlowServer(root, { command = 'serve', args = [], token, cwd }) {
  const child = spawn(process.execPath, [join(root, 'bin', 'flow.js'), command, '--port', '0', ...args], {
    cwd,
    env: { ...process.env, FLOW_SERVE_TOKEN: token },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      const url = /serving (http:\/\/\S+)\/\?token=/.exec(err)?.[1];
      if (url) resolve({ url, stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`flow ${command} exited (${code}): ${err}`)));
  });
}
