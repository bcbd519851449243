import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

// Audio through the whole gateway to a Gemini backend: Google's SDK's inlineData wav and an
// OpenAI client's input_audio both reach Gemini as inline audio (they were a 400).

const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAgD4AAAB9AAACABAAZGF0YQAAAAA=';

describe('audio prompts on a Gemini backend', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-gemini-audio-'));
  const gemini = new FakeGeminiUpstream();
  let gateway: AppProcess;

  before(async () => {
    await gemini.start();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: gemini-audio}
spec:
  backends:
  - name: gemini
    provider: google-gemini
    baseUrl: ${gemini.baseUrl}
    model: gemini-2.5-flash
    modelNameOverride: gemini-audio
    auth: {apiKeyRef: {name: gemini-key}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaBackendKey',
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
  });
  after(async () => {
    await gateway?.stop();
    await gemini.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends Google's SDK's inlineData wav on as inline audio", async () => {
    gemini.reset();
    const client = new GoogleGenAI({
      apiKey: 'goog-client-key',
      httpOptions: { baseUrl: gateway.baseUrl },
    });
    const answer = await client.models.generateContent({
      model: 'gemini-audio',
      contents: [
        {
          role: 'user',
          parts: [{ text: 'What is said?' }, { inlineData: { mimeType: 'audio/wav', data: WAV } }],
        },
      ],
    });
    assert.ok(answer.text);
    const [content] = gemini.calls[0].body.contents as { parts: unknown[] }[];
    assert.deepEqual(content.parts[1], { inlineData: { mimeType: 'audio/wav', data: WAV } });
  });

  it("sends an OpenAI client's input_audio on as inline audio", async () => {
    gemini.reset();
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer client-key' },
      body: JSON.stringify({
        model: 'gemini-audio',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is said?' },
              { type: 'input_audio', input_audio: { data: WAV, format: 'wav' } },
            ],
          },
        ],
      }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const [content] = gemini.calls[0].body.contents as { parts: unknown[] }[];
    assert.deepEqual(content.parts[1], { inlineData: { mimeType: 'audio/wav', data: WAV } });
  });
});
