// A Chat Completions endpoint for benchmarks, in a process of its own (the benchmark blocks its own event loop in
// spawnSync): every POST .../chat/completions gets the same short answer at once, with usage. Started with
// startChatServer(), which resolves to its base URL (what OPENAI_BASE_URL takes) and a stop().
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const ANSWER = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 0,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'spam', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 12, completion_tokens: 1, total_tokens: 13 },
});

export function startChatServer() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the chat server exited (${code}) before it listened`)));
    child.stdout.once('data', (d) => resolve({ url: `http://127.0.0.1:${String(d).trim()}/v1`, stop: () => child.kill() }));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
}
