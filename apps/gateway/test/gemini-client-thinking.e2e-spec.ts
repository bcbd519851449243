import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

// Google's SDK asking a Gemini backend through the gateway for thinking as Google's docs
// write it: the thought summaries alone (`includeThoughts`, the model thinking as it
// would), and a small budget (2.5 Flash takes 1 and up).

const dir = mkdtempSync(join(tmpdir(), 'aigw-gemini-thinking-'));

describe("Gemini API: a Gemini client's thinkingConfig reaches a Gemini backend as meant", () => {
  const gemini = new FakeGeminiUpstream();
  let gateway: AppProcess;
  let client: GoogleGenAI;

  before(async () => {
    await gemini.start();
    const config = join(dir, 'gemini.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: gemini-thinking}
spec:
  backends:
  - name: gemini
    provider: google-gemini
    baseUrl: ${gemini.baseUrl}
    model: gemini-2.5-flash
    modelNameOverride: gemini-flash
    auth: {apiKeyRef: {name: gemini-key}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaBackendKey',
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
    client = new GoogleGenAI({
      apiKey: 'client-key',
      httpOptions: { baseUrl: gateway.baseUrl },
    });
  });
  after(async () => {
    await gateway.stop();
    await gemini.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks for the thought summaries when includeThoughts comes alone, plain and streamed', async () => {
    gemini.reset();
    const config = { thinkingConfig: { includeThoughts: true } };
    const plain = await client.models.generateContent({
      model: 'gemini-flash',
      contents: 'Hi',
      config,
    });
    const thoughts = plain.candidates?.[0].content?.parts?.filter((part) => part.thought);
    assert.equal(thoughts?.length, 1);
    const stream = await client.models.generateContentStream({
      model: 'gemini-flash',
      contents: 'Hi',
      config,
    });
    for await (const _chunk of stream) {
      // read whole
    }
    assert.equal(gemini.calls.length, 2);
    for (const call of gemini.calls) {
      assert.deepEqual(call.body.generationConfig, { thinkingConfig: { includeThoughts: true } });
    }
  });

  it("sends a budget under 1,024 tokens as the client's own", async () => {
    gemini.reset();
    await client.models.generateContent({
      model: 'gemini-flash',
      contents: 'Hi',
      config: { thinkingConfig: { thinkingBudget: 512 } },
    });
    assert.deepEqual(gemini.calls[0].body.generationConfig, {
      thinkingConfig: { thinkingBudget: 512, includeThoughts: true },
    });
  });
});
