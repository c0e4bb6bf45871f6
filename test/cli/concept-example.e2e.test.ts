import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { type OpenAIServer, startOpenAIServer } from '../helpers/openai-server.js';
import { createBucket, S3_TEST_ENV, startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { runIdOf } from '../helpers/state.js';

// The concept document's own example, run as written: workflows/document-processing.yaml, its AI step against an
// OpenAI-compatible server (OPENAI_BASE_URL), its storage step against an S3-compatible one (AWS_ENDPOINT_URL).

const EXAMPLE = join(import.meta.dirname, '..', '..', 'workflows', 'document-processing.yaml');
const credentials = S3_TEST_ENV;
let s3: TestS3Server;
let ai: OpenAIServer;

beforeAll(async () => {
  s3 = await startS3Server();
  await createBucket(s3, 'processed-documents');
  ai = await startOpenAIServer([
    { content: 'An invoice for 3 items, due in 30 days.', usage: { prompt_tokens: 120, completion_tokens: 12 } },
  ]);
});
afterAll(async () => {
  s3?.close();
  await ai?.close();
});

describe('the concept document’s example', () => {
  it('runs as written: the inputs its input step names, the AI step asked about them, the answer stored in S3', async () => {
    const dir = tempDir('flow-concept-');
    const env = { ...credentials, AWS_ENDPOINT_URL: s3.endpoint, OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'sk-test' };
    const args = ['run', EXAMPLE, '--input', 'document_url=https://example.com/invoice.pdf', '--input', 'document_type=pdf'];
    const r = await flowAsync(args, dir, env);
    expect(r.code, r.stderr).toBe(0);
    const asked = ai.requests[0]!.body;
    expect(asked).toMatchObject({ model: 'gpt-4', max_tokens: 1000, temperature: 0.7 });
    expect(JSON.parse((asked.messages as { content: string }[])[0]!.content)).toEqual({
      document_url: 'https://example.com/invoice.pdf',
      document_type: 'pdf',
    });
    const id = runIdOf(r.stderr);
    const stored = JSON.parse(s3.object('processed-documents', `${id}/result_storage.json`)!.body.toString('utf8'));
    expect(stored).toMatchObject({ text: 'An invoice for 3 items, due in 30 days.', model: 'gpt-4' });
    const show = JSON.parse((await flowAsync(['show', id, '--json'], dir)).stdout) as { steps: { id: string; output: unknown }[] };
    expect(show.steps.find((s) => s.id === 'ai_analysis')!.output).toMatchObject({
      usage: { prompt_tokens: 120, completion_tokens: 12, total_tokens: 132 },
      // gpt-4 at $30 / $60 per million tokens.
      cost: 0.00432,
    });
  });

  it('names a missing input that its input step requires, before anything runs', async () => {
    const r = await flowAsync(['run', EXAMPLE, '--input', 'document_url=https://example.com/a.pdf'], tempDir('flow-concept-'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('document_type');
    expect(ai.requests).toHaveLength(1);
  });
});
