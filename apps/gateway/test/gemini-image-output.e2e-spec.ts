import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

// Google's SDK calling an image model (gemini-2.5-flash-image) through the gateway, as
// Google's docs write it: the image the model made comes back as an inlineData part.

const dir = mkdtempSync(join(tmpdir(), 'aigw-gemini-image-output-'));
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe('Gemini API: an image model answers its image', () => {
  const gemini = new FakeGeminiUpstream();
  let gateway: AppProcess;
  let client: GoogleGenAI;

  before(async () => {
    await gemini.start();
    const config = join(dir, 'gemini.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: gemini-image}
spec:
  backends:
  - name: gemini
    provider: google-gemini
    baseUrl: ${gemini.baseUrl}
    model: gemini-2.5-flash-image
    modelNameOverride: nano-banana
    auth: {apiKeyRef: {name: gemini-key}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaBackendKey',
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
    client = new GoogleGenAI({ apiKey: 'client-key', httpOptions: { baseUrl: gateway.baseUrl } });
  });
  after(async () => {
    await gateway.stop();
    await gemini.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the image as an inlineData part beside the text', async () => {
    gemini.next({
      kind: 'json',
      body: {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                { text: 'Here is a cat.' },
                { inlineData: { mimeType: 'image/png', data: PNG } },
              ],
            },
            finishReason: 'STOP',
          },
        ],
        usageMetadata: {
          promptTokenCount: 6,
          candidatesTokenCount: 1295,
          totalTokenCount: 1301,
          candidatesTokensDetails: [
            { modality: 'TEXT', tokenCount: 5 },
            { modality: 'IMAGE', tokenCount: 1290 },
          ],
        },
      },
    });
    const answer = await client.models.generateContent({
      model: 'nano-banana',
      contents: 'Draw a cat',
    });
    assert.equal(answer.text, 'Here is a cat.');
    assert.deepEqual(answer.data, PNG);
    assert.deepEqual(answer.candidates?.[0].content?.parts?.[1], {
      inlineData: { mimeType: 'image/png', data: PNG },
    });
  });
});
