import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI, Modality } from '@google/genai';
import { FakeGeminiUpstream, FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

// Google's SDK asking an image model for text and image, as Google's image generation docs
// write it (config.responseModalities): the Gemini backend receives the modalities as
// sent, plain and streamed; a backend that answers text only is skipped in failover, and a
// model with no other backend is Google's 400 naming generationConfig.responseModalities.

const dir = mkdtempSync(join(tmpdir(), 'aigw-gemini-modalities-'));

describe('Gemini API: responseModalities', () => {
  const gemini = new FakeGeminiUpstream();
  const openai = new FakeOpenAiUpstream();
  let gateway: AppProcess;
  let client: GoogleGenAI;

  before(async () => {
    await gemini.start();
    await openai.start();
    const config = join(dir, 'gemini.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: painter}
spec:
  backends:
  - name: openai
    priority: 0
    provider: openai
    baseUrl: ${openai.baseUrl}
    model: gpt-4o
    modelNameOverride: painter
    auth: {apiKeyRef: {name: openai-key}}
  - name: gemini
    priority: 1
    provider: google-gemini
    baseUrl: ${gemini.baseUrl}
    model: gemini-2.5-flash-image
    modelNameOverride: painter
    auth: {apiKeyRef: {name: gemini-key}}
  - name: writer
    provider: openai
    baseUrl: ${openai.baseUrl}
    model: gpt-4o
    modelNameOverride: writer
    auth: {apiKeyRef: {name: openai-key}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaBackendKey',
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend',
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
    client = new GoogleGenAI({ apiKey: 'client-key', httpOptions: { baseUrl: gateway.baseUrl } });
  });
  after(async () => {
    await gateway.stop();
    await gemini.stop();
    await openai.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = { responseModalities: [Modality.TEXT, Modality.IMAGE] };

  it('sends TEXT and IMAGE to the Gemini backend, skipping the OpenAI one ahead of it', async () => {
    gemini.reset();
    openai.calls.length = 0;
    const answer = await client.models.generateContent({
      model: 'painter',
      contents: 'Draw a cat',
      config,
    });
    assert.ok(answer.text);
    assert.equal(openai.calls.length, 0);
    assert.equal(gemini.calls.length, 1);
    const generation = gemini.calls[0].body.generationConfig as Record<string, unknown>;
    assert.deepEqual(generation.responseModalities, ['TEXT', 'IMAGE']);
  });

  it('sends them on a stream too', async () => {
    gemini.reset();
    openai.calls.length = 0;
    const stream = await client.models.generateContentStream({
      model: 'painter',
      contents: 'Draw a cat',
      config: { responseModalities: [Modality.IMAGE] },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.text ?? '';
    assert.ok(text);
    assert.equal(openai.calls.length, 0);
    assert.match(gemini.calls[0].path, /:streamGenerateContent$/);
    const generation = gemini.calls[0].body.generationConfig as Record<string, unknown>;
    assert.deepEqual(generation.responseModalities, ['IMAGE']);
  });

  it("answers Google's 400 naming generationConfig.responseModalities when no backend makes images", async () => {
    openai.calls.length = 0;
    const response = await fetch(`${gateway.baseUrl}/v1beta/models/writer:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'client-key' },
      body: JSON.stringify({
        contents: [{ role: 'user', parts: [{ text: 'Draw a cat' }] }],
        generationConfig: { responseModalities: ['TEXT', 'IMAGE'] },
      }),
    });
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as {
      error: { code: number; status: string; message: string };
    };
    assert.equal(error.code, 400);
    assert.equal(error.status, 'INVALID_ARGUMENT');
    assert.match(error.message, /generationConfig\.responseModalities/);
    assert.equal(openai.calls.length, 0);
  });

  it('still refuses AUDIO', async () => {
    const response = await fetch(`${gateway.baseUrl}/v1beta/models/painter:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'client-key' },
      body: JSON.stringify({
        contents: [{ role: 'user', parts: [{ text: 'Say hi' }] }],
        generationConfig: { responseModalities: ['AUDIO'] },
      }),
    });
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as { error: { status: string; message: string } };
    assert.equal(error.status, 'INVALID_ARGUMENT');
    assert.match(error.message, /response_modalities\[0\]/);
  });
});
