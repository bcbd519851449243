// Cohere's citations reach an openai SDK client as OpenAI's url_citation annotations: on
// the message of a plain answer, and on the delta of a stream, where a citation cites a
// page with a URL (a document's, or a search tool output's).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FakeCohereUpstream, RawSseUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const TEXT = 'Emperor penguins are the tallest. They live in Antarctica.';
const CITATION = {
  start: 47,
  end: 58,
  text: 'Antarctica.',
  type: 'TEXT_CONTENT',
  sources: [
    {
      type: 'tool',
      id: 'search_1:0',
      tool_output: { title: 'Penguin habitats', url: 'https://example.org/habitats' },
    },
  ],
};
const ANNOTATION = {
  type: 'url_citation',
  url_citation: {
    start_index: 47,
    end_index: 58,
    url: 'https://example.org/habitats',
    title: 'Penguin habitats',
  },
};
const USAGE = { billed_units: { input_tokens: 9, output_tokens: 12 } };

describe("Cohere's citations through the chat completions edge", () => {
  const cohere = new FakeCohereUpstream();
  const rawCohere = new RawSseUpstream({ nameEventsByType: true });
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([cohere.start(), rawCohere.start()]);
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: cohere-citations}
spec:
  backends:
  - {name: cohere-plain, provider: cohere, baseUrl: "${cohere.baseUrl}", model: command-a-03-2025, modelNameOverride: cohere-plain, auth: {apiKeyRef: {name: cohere-key}}}
  - {name: cohere-stream, provider: cohere, baseUrl: "${rawCohere.baseUrl}", model: command-a-03-2025, modelNameOverride: cohere-stream, auth: {apiKeyRef: {name: cohere-key}}}
`,
      { AI_GATEWAY_SECRET_COHERE_KEY_APIKEY: 'co-citations-key' },
    );
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([cohere.stop(), rawCohere.stop()]);
  });

  it('answers them as message.annotations', async () => {
    cohere.next({
      kind: 'json',
      body: {
        id: 'chat-cited-1',
        finish_reason: 'COMPLETE',
        message: {
          role: 'assistant',
          content: [{ type: 'text', text: TEXT }],
          citations: [CITATION],
        },
        usage: USAGE,
      },
    });
    const answer = await client.chat.completions.create({
      model: 'cohere-plain',
      messages: [{ role: 'user', content: 'Where do the tallest penguins live?' }],
    });
    const message = answer.choices[0].message;
    assert.equal(message.content, TEXT);
    assert.deepEqual(message.annotations, [ANNOTATION]);
  });

  it('streams them as a delta holding annotations', async () => {
    rawCohere.next([
      { type: 'message-start', id: 'chat-cited-2', delta: { message: { role: 'assistant' } } },
      { type: 'content-start', index: 0, delta: { message: { content: { type: 'text' } } } },
      { type: 'content-delta', index: 0, delta: { message: { content: { text: TEXT } } } },
      { type: 'citation-start', index: 0, delta: { message: { citations: CITATION } } },
      { type: 'citation-end', index: 0 },
      { type: 'content-end', index: 0 },
      { type: 'message-end', delta: { finish_reason: 'COMPLETE', usage: USAGE } },
    ]);
    const stream = await client.chat.completions.create({
      model: 'cohere-stream',
      stream: true,
      messages: [{ role: 'user', content: 'Where do the tallest penguins live?' }],
    });
    let text = '';
    const annotations: unknown[] = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string; annotations?: unknown[] };
      text += delta?.content ?? '';
      annotations.push(...(delta?.annotations ?? []));
    }
    assert.equal(text, TEXT);
    assert.deepEqual(annotations, [ANNOTATION]);
  });

  it("gives the SDK's stream helper every citation of a streamed answer", async () => {
    // The helper's message takes a delta's annotations whole (openai-python's fails on a
    // second list of them without indexes): all of them must come in one delta.
    const first = {
      ...CITATION,
      start: 0,
      end: 16,
      text: 'Emperor penguins',
      sources: [
        { type: 'document', id: 'doc_0', document: { url: 'https://example.org/emperor' } },
      ],
    };
    rawCohere.next([
      { type: 'message-start', id: 'chat-cited-3', delta: { message: { role: 'assistant' } } },
      { type: 'content-delta', index: 0, delta: { message: { content: { text: TEXT } } } },
      { type: 'citation-start', index: 0, delta: { message: { citations: first } } },
      { type: 'citation-end', index: 0 },
      { type: 'citation-start', index: 1, delta: { message: { citations: CITATION } } },
      { type: 'citation-end', index: 1 },
      { type: 'message-end', delta: { finish_reason: 'COMPLETE', usage: USAGE } },
    ]);
    const stream = client.chat.completions.stream({
      model: 'cohere-stream',
      messages: [{ role: 'user', content: 'Where do the tallest penguins live?' }],
    });
    const message = (await stream.finalChatCompletion()).choices[0].message;
    assert.equal(message.content, TEXT);
    assert.deepEqual(message.annotations, [
      {
        type: 'url_citation',
        url_citation: {
          start_index: 0,
          end_index: 16,
          url: 'https://example.org/emperor',
          title: 'https://example.org/emperor',
        },
      },
      ANNOTATION,
    ]);
  });
});
