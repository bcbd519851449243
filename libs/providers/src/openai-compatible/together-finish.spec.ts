import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  GatewayRequest,
  JsonObject,
  StreamAnswer,
  UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { FakeOpenAiUpstream, RawSseUpstream, upstreamTarget } from '@aigw/testing/fake-provider';
import { OpenAiCompatibleAdapter } from './openai-compatible.adapter';

// Together ends an answer at the model's end-of-sequence token with finish_reason "eos"
// (its SDKs: "stop", "eos", "length", "tool_calls", "function_call"), a value OpenAI's
// clients do not know: the Gemini edge answered it as finishReason OTHER, not STOP.

function chatRequest(stream: boolean): GatewayRequest {
  return {
    requestId: 'req-1',
    operation: 'chat',
    requestedModel: 'llama',
    stream,
    clientWantsStreamUsage: false,
    body: { model: 'llama', messages: [{ role: 'user', content: 'hi' }] },
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

const adapter = new OpenAiCompatibleAdapter();
const targetAt = (baseUrl: string): UpstreamTarget =>
  upstreamTarget(
    { provider: 'together', model: 'meta-llama/Llama-3.3-70B-Instruct-Turbo', baseUrl },
    { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'together-test-key' },
  );

describe("Together's finish_reason eos", () => {
  const upstream = new FakeOpenAiUpstream();
  const raw = new RawSseUpstream({ basePath: '/v1' });
  before(async () => {
    await upstream.start();
    await raw.start();
  });
  after(async () => {
    await upstream.stop();
    await raw.stop();
  });
  beforeEach(() => upstream.reset());

  it('answers it as stop in JSON', async () => {
    upstream.next({
      kind: 'status',
      status: 200,
      body: {
        id: 'c1',
        object: 'chat.completion',
        created: 1,
        model: 'llama',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'eos' },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      },
    });
    const answer = await adapter.invoke({
      request: chatRequest(false),
      target: targetAt(upstream.baseUrl),
      signal: new AbortController().signal,
    });
    assert.equal(answer.kind, 'json');
    assert.equal((answer.body.choices as JsonObject[])[0].finish_reason, 'stop');
  });

  it('answers it as stop streamed', async () => {
    const chunk = (delta: JsonObject, finish: string | null) => ({
      id: 'c1',
      object: 'chat.completion.chunk',
      model: 'llama',
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    raw.next([chunk({ role: 'assistant', content: 'Hi' }, null), chunk({}, 'eos'), '[DONE]']);
    const answer = (await adapter.invoke({
      request: chatRequest(true),
      target: targetAt(raw.baseUrl),
      signal: new AbortController().signal,
    })) as StreamAnswer;
    const finishes: unknown[] = [];
    for await (const event of answer.events) {
      finishes.push((event.choices as JsonObject[])[0].finish_reason);
    }
    assert.deepEqual(finishes, [null, 'stop']);
  });
});
