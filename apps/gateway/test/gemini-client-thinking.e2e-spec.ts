import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI } from '@google/genai';
import { FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnGeminiBackend } from './gemini-backend';

// Google's SDK asking a Gemini backend through the gateway for thinking as Google's docs
// write it: the thought summaries alone (`includeThoughts`, the model thinking as it
// would), and a small budget (2.5 Flash takes 1 and up).

describe("Gemini API: a Gemini client's thinkingConfig reaches a Gemini backend as meant", () => {
  const gemini = new FakeGeminiUpstream();
  let gateway: AppProcess;
  let client: GoogleGenAI;

  before(async () => {
    await gemini.start();
    gateway = await startOnGeminiBackend(gemini, 'gemini-flash', 'gemini-2.5-flash');
    client = new GoogleGenAI({
      apiKey: 'client-key',
      httpOptions: { baseUrl: gateway.baseUrl },
    });
  });
  after(async () => {
    await gateway.stop();
    await gemini.stop();
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
