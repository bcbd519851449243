import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  GatewayRequest,
  JsonObject,
  StreamAnswer,
  UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { FakeOpenAiUpstream, RawSseUpstream, upstreamTarget } from '@aigw/testing/fake-provider';
import { countTokens } from '../core/tokenizer';
import { OpenAiCompatibleAdapter } from './openai-compatible.adapter';

// Mistral's reasoning models (mistral-small-latest and mistral-medium-3-5 with
// reasoning_effort, Magistral) answer with `content` as a list of thinking and text chunks
// (docs.mistral.ai/capabilities/reasoning); streamed, the thinking comes as such lists and
// the answer as strings (mistralai's reasoning_with_streaming example).

const THINK = { type: 'thinking', thinking: [{ type: 'text', text: 'Two and two make four.' }] };

function chatRequest(stream: boolean): GatewayRequest {
  return {
    requestId: 'req-1',
    operation: 'chat',
    requestedModel: 'mistral-medium-3-5',
    stream,
    clientWantsStreamUsage: false,
    body: {
      model: 'mistral-medium-3-5',
      reasoning_effort: 'high',
      messages: [{ role: 'user', content: 'What is 2 + 2?' }],
      ...(stream ? { stream: true } : {}),
    },
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

const adapter = new OpenAiCompatibleAdapter();

function targetAt(baseUrl: string, provider: string): UpstreamTarget {
  return upstreamTarget(
    { provider, model: 'mistral-medium-3-5', baseUrl },
    { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'mistral-test-key' },
  );
}

describe("Mistral's thinking chunks, as OpenAI clients read reasoning", () => {
  const upstream = new FakeOpenAiUpstream();
  before(() => upstream.start());
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  const answerWith = (content: unknown, extra: JsonObject = {}) =>
    upstream.next({
      kind: 'status',
      status: 200,
      body: {
        id: 'c1',
        object: 'chat.completion',
        created: 1,
        model: 'mistral-medium-3-5',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, ...extra },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 },
      },
    });

  const messageOf = async (provider = 'mistral'): Promise<JsonObject> => {
    const answer = await adapter.invoke({
      request: chatRequest(false),
      target: targetAt(upstream.baseUrl, provider),
      signal: new AbortController().signal,
    });
    assert.equal(answer.kind, 'json');
    return ((answer.body.choices as JsonObject[])[0].message ?? {}) as JsonObject;
  };

  it('answers the thinking as reasoning_content and the text as content, a string', async () => {
    answerWith([THINK, { type: 'text', text: '2 + 2 = 4' }]);
    const message = await messageOf();
    assert.equal(message.content, '2 + 2 = 4');
    assert.equal(message.reasoning_content, 'Two and two make four.');
  });

  it('gives null content beside tool calls when the answer has no text', async () => {
    const call = { id: 'abcDEF123', type: 'function', function: { name: 'add', arguments: '{}' } };
    answerWith([THINK], { tool_calls: [call] });
    const message = await messageOf();
    assert.equal(message.content, null);
    assert.equal(message.reasoning_content, 'Two and two make four.');
    assert.deepEqual(message.tool_calls, [call]);
  });

  it('leaves a list holding a part it does not know as Mistral sent it', async () => {
    const content = [THINK, { type: 'reference', reference_ids: [1] }];
    answerWith(content);
    const message = await messageOf();
    assert.deepEqual(message.content, content);
    assert.equal(message.reasoning_content, undefined);
  });

  it("leaves other providers' answers as they came", async () => {
    const content = [THINK, { type: 'text', text: '4' }];
    answerWith(content);
    assert.deepEqual((await messageOf('vllm')).content, content);
  });
});

describe("Mistral's streamed thinking chunks, as OpenAI clients read reasoning", () => {
  const raw = new RawSseUpstream({ basePath: '/v1' });
  before(() => raw.start());
  after(() => raw.stop());

  const chunk = (delta: JsonObject, finish: string | null = null) => ({
    id: 'c1',
    object: 'chat.completion.chunk',
    model: 'mistral-medium-3-5',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

  it('relays thinking deltas as reasoning_content and the answer as content strings', async () => {
    raw.next([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Two and ' }] }] }),
      chunk({ content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'two.' }] }] }),
      chunk({ content: '2 + 2' }),
      chunk({ content: [{ type: 'text', text: ' = 4' }] }),
      {
        ...chunk({ content: '' }, 'stop'),
        usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 },
      },
      '[DONE]',
    ]);
    const answer = (await adapter.invoke({
      request: chatRequest(true),
      target: targetAt(raw.baseUrl, 'mistral'),
      signal: new AbortController().signal,
    })) as StreamAnswer;
    const deltas: JsonObject[] = [];
    for await (const event of answer.events) {
      deltas.push((event.choices as JsonObject[])[0].delta as JsonObject);
    }
    for (const delta of deltas) {
      if ('content' in delta) assert.equal(typeof delta.content, 'string', JSON.stringify(delta));
    }
    const joined = (field: string) =>
      deltas.map((delta) => (typeof delta[field] === 'string' ? delta[field] : '')).join('');
    assert.equal(joined('reasoning_content'), 'Two and two.');
    assert.equal(joined('content'), '2 + 2 = 4');
    assert.equal((await answer.usage).source, 'reported');
  });
});

describe("Mistral's streamed thinking, when the stream is cut before its usage", () => {
  const raw = new RawSseUpstream({ basePath: '/v1' });
  before(() => raw.start());
  after(() => raw.stop());

  it('is counted in the estimated output, as reasoning_content is', async () => {
    const thought = 'Let me add the two numbers carefully, one digit at a time. '.repeat(20);
    const think = (text: string) => ({
      id: 'c1',
      object: 'chat.completion.chunk',
      model: 'mistral-medium-3-5',
      choices: [
        {
          index: 0,
          delta: { content: [{ type: 'thinking', thinking: [{ type: 'text', text }] }] },
          finish_reason: null,
        },
      ],
    });
    raw.next([think(thought), think(thought)], { drop: true });
    const answer = (await adapter.invoke({
      request: chatRequest(true),
      target: targetAt(raw.baseUrl, 'mistral'),
      signal: new AbortController().signal,
    })) as StreamAnswer;
    await assert.rejects(async () => {
      for await (const _event of answer.events) {
        // relayed until the cut
      }
    });
    const usage = await answer.usage;
    assert.equal(usage.source, 'estimated');
    assert.ok(
      usage.outputTokens >= countTokens(thought + thought),
      `${usage.outputTokens} output tokens for ${countTokens(thought + thought)} of thinking`,
    );
  });
});
