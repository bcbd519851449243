// Google's Files API in the split deployment: the ingress holds no backend keys, so it
// does not serve the Gemini Files API. A Google SDK's upload, get and list are answered
// in Google's format that it is not served (on /v1/files too, OpenAI's path, for calls a
// Google SDK makes), and no backend is called; a generateContent naming a gateway file is
// a 400 saying so, while other generateContent calls are served as before.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, GoogleGenAI } from '@google/genai';
import { FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

const MODEL = 'gemini-split';

describe('split deployment: the Gemini Files API is not served', () => {
  const gemini = new FakeGeminiUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-gemini-files-'));
  const services: AppProcess[] = [];
  let client: GoogleGenAI;

  before(async () => {
    await gemini.start();
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: gemini}
spec:
  backends:
  - {name: gemini, provider: google-gemini, baseUrl: "${gemini.baseUrl}", model: gemini-2.5-flash, modelNameOverride: ${MODEL}, auth: {apiKeyRef: {name: gemini-key}}}
`,
    );
    const { ingress } = await startSplitDataPlane({ AI_GATEWAY_CONFIG: path }, dir, services, {
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaSplitBackendKey',
    });
    client = new GoogleGenAI({
      apiKey: 'goog-client-key',
      httpOptions: { baseUrl: ingress.baseUrl, headers: { 'x-ai-gateway-model': MODEL } },
    });
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await gemini.stop();
  });

  const notServed = (error: unknown) =>
    error instanceof ApiError && error.status === 404 && /does not serve it/.test(error.message);

  it("answers uploads, gets and lists with Google's 404, calling no backend", async () => {
    const before = gemini.calls.length;
    await assert.rejects(
      client.files.upload({ file: new Blob(['x'], { type: 'text/plain' }) }),
      notServed,
    );
    await assert.rejects(client.files.get({ name: `files/aigw-${'0'.repeat(32)}` }), notServed);
    await assert.rejects(client.files.list(), notServed);
    assert.equal(gemini.calls.length, before);
  });

  it('refuses a generateContent naming a gateway file, and serves one without', async () => {
    await assert.rejects(
      client.models.generateContent({
        model: MODEL,
        contents: [
          {
            role: 'user',
            parts: [
              { fileData: { fileUri: `files/aigw-${'0'.repeat(32)}`, mimeType: 'text/plain' } },
              { text: 'hi' },
            ],
          },
        ],
      }),
      (error: unknown) => error instanceof ApiError && error.status === 400,
    );
    const answer = await client.models.generateContent({ model: MODEL, contents: 'hello' });
    assert.ok((answer.text ?? '').length > 0);
  });
});
