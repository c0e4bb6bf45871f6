import { describe, expect, it } from 'vitest';
import { nodeHost } from '../../../src/language/node-host.js';
import { validateSource } from '../../../src/language/validate.js';
import { codesAt, validateText } from '../../helpers/validate.js';

const CATALOG = `secrets: [CRM_TOKEN]
services:
  crm:
    base_url: https://crm.example.com/v2
    headers: { Authorization: "Bearer \${{ secrets.CRM_TOKEN }}" }
    timeout: 5s
    retry: { max_attempts: 4, on: [http:5xx] }
`;
const httpStep = (id: string, config: string) => `  - id: ${id}\n    type: http\n    config: ${config}\n`;

describe('services: the catalog and the http steps that use it', () => {
  it('accepts a service whose headers read a secret, used with a relative url and with path', async () => {
    const text = `${CATALOG}steps:\n${httpStep('a', '{ service: crm, url: /customers/42 }')}${httpStep('b', '{ service: crm, path: customers }')}`;
    expect(await validateText(text)).toEqual([]);
  });

  it('reports an unknown service at the step’s service: value, with a did-you-mean', async () => {
    const text = `${CATALOG}steps:\n${httpStep('a', '{ service: crn, url: /customers }')}`;
    const diagnostics = await validateText(text);
    expect(codesAt(diagnostics)).toEqual(['unknown-service@11']);
    const line = '    config: { service: crn, url: /customers }';
    expect(diagnostics[0]).toMatchObject({ column: line.indexOf('crn') + 1, length: 3, hint: "did you mean 'crm'?" });
    expect(diagnostics[0]!.message).toContain("'crn'");
  });

  it('names how to declare a service when there is no catalog at all (also for the integration alias)', async () => {
    const [d] = await validateText(`steps:\n  - id: a\n    type: integration\n    config: { service: billing, url: /x }\n`);
    expect(d).toMatchObject({ code: 'unknown-service', line: 4 });
    expect(d!.hint).toContain('services: { billing:');
  });

  it('reports a secret read outside a service’s headers, at the reference', async () => {
    const text =
      'secrets: [CRM_TOKEN]\nservices:\n  crm:\n    base_url: "https://crm.example.com/v2?key=${{ secrets.CRM_TOKEN }}"\n' +
      `steps:\n${httpStep('a', '{ service: crm, url: /customers }')}`;
    const diagnostics = await validateText(text);
    expect(codesAt(diagnostics)).toEqual(['secret-outside-headers@4']);
    const line = '    base_url: "https://crm.example.com/v2?key=${{ secrets.CRM_TOKEN }}"';
    expect(diagnostics[0]).toMatchObject({ column: line.indexOf('secrets.') + 1, length: 'secrets'.length });
    expect(diagnostics[0]!.message).toContain('base_url');
  });

  it('checks a service’s expressions like any other: an unlisted secret in a header is unknown-secret', async () => {
    const text = `services:\n  crm:\n    base_url: https://crm.example.com\n    headers: { X-Key: "\${{ secrets.KEY }}" }\nsteps:\n${httpStep('a', '{ service: crm, url: /x }')}`;
    expect(codesAt(await validateText(text))).toEqual(['unknown-secret@4']);
  });

  it('needs a service for path:, and a relative url with one', async () => {
    const text = `${CATALOG}steps:\n${httpStep('a', '{ path: /customers }')}${httpStep('b', '{ service: crm, url: "https://evil.example.com/x" }')}`;
    const diagnostics = await validateText(text);
    expect(codesAt(diagnostics)).toEqual(['missing-key@11', 'invalid-value@14']);
    expect(diagnostics[0]!.message).toContain('service');
  });

  it('takes url or path with a service, but not both, and still needs a url without one', async () => {
    const both = await validateText(`${CATALOG}steps:\n${httpStep('a', '{ service: crm, url: /a, path: /b }')}`);
    expect(codesAt(both)).toEqual(['invalid-value@11']);
    const neither = await validateText(`${CATALOG}steps:\n${httpStep('a', '{ service: crm }')}`);
    expect(codesAt(neither)).toEqual(['missing-key@11']);
    expect(neither[0]!.message).toContain("'url' or 'path'");
    const plain = await validateText(`steps:\n${httpStep('a', '{ method: GET }')}`);
    expect(plain[0]!.message).toContain("missing required key 'url'");
  });

  it('rejects a service without base_url and a key that is not part of a service', async () => {
    const text = `services:\n  crm:\n    headers: {}\n    base: https://x\nsteps:\n${httpStep('a', '{ service: crm, url: /x }')}`;
    expect(codesAt(await validateText(text))).toEqual(['missing-key@2', 'unknown-key@4']);
  });
});

describe('services: the model', () => {
  const model = async (text: string) => (await validateSource('test.yaml', text, nodeHost)).workflow!;
  const action = (w: Awaited<ReturnType<typeof model>>, i: number) => {
    const step = w.steps[i]!;
    if (step.kind !== 'action') throw new Error('not an action');
    return step;
  };

  it('applies the service to the step: base_url, headers under the step’s own, timeout and retry', async () => {
    const w = await model(
      `${CATALOG}defaults: { retry: { max_attempts: 2 } }\nsteps:\n` +
        httpStep('a', '{ service: crm, path: customers, headers: { authorization: Basic x, X-Trace: t } }'),
    );
    expect(w.services['crm']).toMatchObject({ baseUrl: 'https://crm.example.com/v2', timeout: '5s' });
    expect(action(w, 0).config).toEqual({
      service: 'crm',
      base_url: 'https://crm.example.com/v2',
      url: 'customers',
      headers: { authorization: 'Basic x', 'X-Trace': 't' },
      timeout: '5s',
    });
    expect(action(w, 0).retry).toMatchObject({ maxAttempts: 4, on: ['http:5xx'] });
  });

  it('lets the step’s own retry and timeout win over the service’s', async () => {
    const w = await model(
      `${CATALOG}steps:\n${httpStep('a', '{ service: crm, url: /x, timeout: 1s }')}` +
        `  - id: b\n    type: http\n    timeout: 1m\n    retry: { max_attempts: 1 }\n    config: { service: crm, url: /x }\n`,
    );
    expect(action(w, 0).config['timeout']).toBe('1s');
    expect(action(w, 1).config['timeout']).toBeUndefined();
    expect(action(w, 1).retry?.maxAttempts).toBe(1);
    expect(action(w, 1).config['headers']).toEqual({ Authorization: 'Bearer ${{ secrets.CRM_TOKEN }}' });
  });
});
