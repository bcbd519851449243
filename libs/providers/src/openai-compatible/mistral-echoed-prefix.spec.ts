import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  GatewayAnswer,
  GatewayRequest,
  JsonObject,
  UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { FakeOpenAiUpstream, upstreamTarget } from '@aigw/testing/fake-provider';
import { countTokens } from '../core/tokenizer';
import { OpenAiCompatibleAdapter } from './openai-compatible.adapter';

// Mistral starts its answer to a `prefix: true` message with the prefix (its prefix guide
// reads the new text as `content[len(prefix):]`); the gateway's clients get the continuation.

const KEY = { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'sk-test' };
const PREFILL = [
  { role: 'user', content: 'A haiku about snow?' },
  { role: 'assistant', content: 'White hush' },
];

function chat(messages: unknown[], stream: boolean): GatewayRequest {
  return {
    requestId: 'req-1',
    operation: 'chat',
    requestedModel: 'mistral-large',
    stream,
    clientWantsStreamUsage: false,
    body: { model: 'mistral-large', messages, ...(stream && { stream: true }) },
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

/** The text a client reads, and the usage billed. */
async function read(answer: GatewayAnswer): Promise<{ text: string; outputTokens: number }> {
  if (answer.kind === 'json') {
    const choice = (answer.body.choices as JsonObject[])[0];
    const text = (choice.message as JsonObject).content as string;
    return { text, outputTokens: answer.usage.outputTokens };
  }
  assert.equal(answer.kind, 'stream');
  let text = '';
  for await (const chunk of answer.events) {
    for (const choice of (chunk.choices ?? []) as JsonObject[]) {
      const content = (choice.delta as JsonObject | undefined)?.content;
      if (typeof content === 'string') text += content;
    }
  }
  return { text, outputTokens: (await answer.usage).outputTokens };
}

describe('a Mistral answer to a prefix, without the prefix it echoes', () => {
  const mistral = new FakeOpenAiUpstream('mistral');
  const adapter = new OpenAiCompatibleAdapter();
  let target: UpstreamTarget;

  before(async () => {
    await mistral.start();
    target = upstreamTarget(
      { provider: 'mistral', model: 'mistral-large-latest', baseUrl: mistral.baseUrl },
      KEY,
    );
  });
  after(() => mistral.stop());
  beforeEach(() => mistral.reset());

  const invoke = (request: GatewayRequest, provider = 'mistral') =>
    adapter.invoke({
      request,
      target: { ...target, provider },
      signal: new AbortController().signal,
    });

  for (const stream of [false, true]) {
    it(`gives only the continuation, the prefix split across chunks (stream: ${stream})`, async () => {
      // As Mistral answers: the prefix first, here split mid-word.
      mistral.answerWith(['Whi', 'te h', 'ush', ' falls', ' on pines']);
      const { text, outputTokens } = await read(await invoke(chat(PREFILL, stream)));
      assert.equal(text, ' falls on pines');
      // Billed for all Mistral generated, echo included: as reported (the fake's 6), or
      // estimated from the whole text where a stream reports none (the fake sends Mistral
      // no stream_options, so it reports none).
      const whole = countTokens('White hush falls on pines');
      assert.notEqual(whole, countTokens(text));
      assert.equal(outputTokens, stream ? whole : 6);
      assert.equal((mistral.calls[0].body.messages as JsonObject[]).at(-1)?.prefix, true);
    });

    it(`keeps an answer that does not start with the prefix whole (stream: ${stream})`, async () => {
      mistral.answerWith(['Whi', 'te', ' snow', ' falls']);
      const { text } = await read(await invoke(chat(PREFILL, stream)));
      assert.equal(text, 'White snow falls');
    });

    it(`takes off a client's own prefix: true as well (stream: ${stream})`, async () => {
      mistral.answerWith(['Yes', ', sure']);
      const messages = [
        { role: 'user', content: 'Ready?' },
        { role: 'assistant', content: 'Yes', prefix: true },
      ];
      const { text } = await read(await invoke(chat(messages, stream)));
      assert.equal(text, ', sure');
    });

    it(`leaves an answer untouched when no prefix was sent (stream: ${stream})`, async () => {
      mistral.answerWith(['White', ' hush', ' falls']);
      const messages = [{ role: 'user', content: 'White hush?' }];
      const { text } = await read(await invoke(chat(messages, stream)));
      assert.equal(text, 'White hush falls');
    });

    it(`leaves other backends' answers to the same conversation untouched (stream: ${stream})`, async () => {
      mistral.answerWith(['White', ' hush', ' falls']);
      for (const provider of ['deepseek', 'vllm', 'openai']) {
        const messages = [
          { role: 'user', content: 'A haiku about snow?' },
          { role: 'assistant', content: 'White hush', prefix: true },
        ];
        const { text } = await read(await invoke(chat(messages, stream), provider));
        assert.equal(text, 'White hush falls', provider);
      }
    });
  }
});
