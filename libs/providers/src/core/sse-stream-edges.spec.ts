import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { JsonObject, StreamAnswer } from '@aigw/contracts/data-plane';
import { gatewayChatRequest, upstreamTarget } from '@aigw/testing/fake-provider';
import { AnthropicAdapter } from '../anthropic/anthropic.adapter';
import { CohereAdapter } from '../cohere/cohere.adapter';
import { GeminiAdapter } from '../gemini/gemini.adapter';
import { OpenAiCompatibleAdapter } from '../openai-compatible/openai-compatible.adapter';
import type { ProviderAdapter } from './provider-adapter';

// Streams a backend (or a proxy before it) sends whole but not as its API's reference does:
// - closed right after the last event's data line, without the blank line after it: that
//   event ends the answer (OpenAI's [DONE], Anthropic's message_stop, Gemini's finish and
//   usage, Cohere's message-end), so the answer is whole, its reported usage billed;
// - with empty `data:` events between the events, which some proxies send to keep a quiet
//   connection open: they carry nothing, so the answer is the same.

const TEXT = 'héllo 😀 世界';
const USAGE = { inputTokens: 5, outputTokens: 9, cachedInputTokens: 0, source: 'reported' };

const chunk = (fields: JsonObject): JsonObject => ({
  id: 'c1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  ...fields,
});

/** Each backend's stream as a list of SSE events, the last of which ends the answer. */
const BACKENDS: {
  readonly provider: string;
  readonly adapter: ProviderAdapter;
  readonly path: string;
  readonly events: readonly string[];
}[] = [
  {
    provider: 'openai',
    adapter: new OpenAiCompatibleAdapter(),
    path: '/v1',
    events: [
      chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: TEXT } }] }),
      chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
      chunk({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 } }),
    ]
      .map((event) => `data: ${JSON.stringify(event)}`)
      .concat('data: [DONE]'),
  },
  {
    provider: 'anthropic',
    adapter: new AnthropicAdapter(),
    path: '',
    events: named([
      {
        type: 'message_start',
        message: { id: 'msg_1', role: 'assistant', content: [], usage: { input_tokens: 5 } },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: TEXT } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } },
      { type: 'message_stop' },
    ]),
  },
  {
    provider: 'google-gemini',
    adapter: new GeminiAdapter(),
    path: '/v1beta',
    events: [
      { candidates: [{ index: 0, content: { role: 'model', parts: [{ text: TEXT }] } }] },
      {
        candidates: [{ index: 0, content: { role: 'model', parts: [] }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 9, totalTokenCount: 14 },
      },
    ].map((event) => `data: ${JSON.stringify(event)}`),
  },
  {
    provider: 'cohere',
    adapter: new CohereAdapter(),
    path: '',
    events: named([
      { type: 'message-start', id: 'co-1', delta: { message: { role: 'assistant' } } },
      { type: 'content-start', index: 0, delta: { message: { content: { type: 'text' } } } },
      { type: 'content-delta', index: 0, delta: { message: { content: { text: TEXT } } } },
      { type: 'content-end', index: 0 },
      {
        type: 'message-end',
        delta: {
          finish_reason: 'COMPLETE',
          usage: { tokens: { input_tokens: 5, output_tokens: 9 } },
        },
      },
    ]),
  },
];

function named(events: readonly JsonObject[]): string[] {
  return events.map((event) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}`);
}

/** A fake backend answering every call with `body` as its event stream. */
function sseBackend(): { readonly server: Server; body: string } {
  const backend = {
    body: '',
    server: createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end(backend.body);
      });
    }),
  };
  return backend;
}

/** What the adapter makes of `body`: the text, the last finish_reason and the usage. */
async function readAnswer(
  backend: (typeof BACKENDS)[number],
  server: Server,
): Promise<{ text: string; finish: unknown; usage: unknown }> {
  const { port } = server.address() as AddressInfo;
  const target = upstreamTarget({
    provider: backend.provider,
    model: backend.provider === 'google-gemini' ? 'gemini-2.5-flash' : 'm',
    baseUrl: `http://127.0.0.1:${port}${backend.path}`,
  });
  const request = gatewayChatRequest({ stream: true });
  const signal = new AbortController().signal;
  const answer = (await backend.adapter.invoke({ request, target, signal })) as StreamAnswer;
  let text = '';
  let finish: unknown;
  for await (const event of answer.events) {
    const choice = (event.choices as JsonObject[] | undefined)?.[0];
    const content = (choice?.delta as JsonObject | undefined)?.content;
    if (typeof content === 'string') text += content;
    finish = choice?.finish_reason ?? finish;
  }
  return { text, finish, usage: await answer.usage };
}

describe("a backend's odd but whole event stream", () => {
  const fake = sseBackend();

  before(async () => {
    fake.server.listen(0, '127.0.0.1');
    await once(fake.server, 'listening');
  });
  after(() => fake.server.close());

  for (const backend of BACKENDS) {
    for (const [ending, end] of [
      ['a line feed', '\n'],
      ['nothing', ''],
    ] as const) {
      it(`${backend.provider}: its last line ended by ${ending} still ends the answer`, async () => {
        fake.body = `${backend.events.join('\n\n')}${end}`;
        const answer = await readAnswer(backend, fake.server);
        assert.deepEqual(answer, { text: TEXT, finish: 'stop', usage: USAGE });
      });
    }

    it(`${backend.provider}: empty data events (a proxy's keep-alive) are skipped`, async () => {
      const keepAlives = ['data:', 'data: ', 'data:  \ndata:'];
      fake.body = `${keepAlives.join('\n\n')}\n\n${backend.events.join(`\n\n${keepAlives[1]}\n\n`)}\n\n`;
      const answer = await readAnswer(backend, fake.server);
      assert.deepEqual(answer, { text: TEXT, finish: 'stop', usage: USAGE });
    });
  }
});
