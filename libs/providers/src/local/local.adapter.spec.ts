import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  GatewayAnswer,
  GatewayRequest,
  JsonObject,
  Operation,
} from '@aigw/contracts/data-plane';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { LocalAdapter } from './local.adapter';
import { localReply } from './local-model';

function request(operation: Operation, body: JsonObject, stream = false): GatewayRequest {
  return {
    requestId: 'r1',
    operation,
    requestedModel: 'm',
    stream,
    clientWantsStreamUsage: stream,
    body,
    caller: { userKey: 'u' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

async function invoke(req: GatewayRequest): Promise<GatewayAnswer> {
  return new LocalAdapter().invoke({
    request: req,
    target: {
      backendName: 'local',
      provider: 'local',
      model: 'm',
      baseUrl: undefined,
      credential: undefined,
      requestTimeoutMs: 1000,
      firstByteTimeoutMs: 1000,
    },
    signal: new AbortController().signal,
  });
}

async function events(answer: GatewayAnswer): Promise<JsonObject[]> {
  assert.equal(answer.kind, 'stream');
  const all: JsonObject[] = [];
  if (answer.kind === 'stream') for await (const event of answer.events) all.push(event);
  return all;
}

type Choice = { text?: string; delta?: { content?: string }; finish_reason: string | null };
const choicesOf = (event: JsonObject) => event.choices as Choice[];

describe('LocalAdapter answers in OpenAI format', () => {
  const chat = { messages: [{ role: 'user', content: 'hello there' }] };
  const prompt = { prompt: 'hello there' };

  it('a chat completion has the fields OpenAI sends, logprobs included', async () => {
    const answer = await invoke(request('chat', chat));
    assert.equal(answer.kind, 'json');
    const body = answer.kind === 'json' ? answer.body : {};
    assert.equal(body.object, 'chat.completion');
    assert.deepEqual(body.choices, [
      {
        index: 0,
        message: { role: 'assistant', content: localReply(chat) },
        finish_reason: 'stop',
        logprobs: null,
      },
    ]);
  });

  it('a streamed chat completion: chat.completion.chunk deltas, then usage', async () => {
    const all = await events(await invoke(request('chat', chat, true)));
    assert.ok(all.every((e) => e.object === 'chat.completion.chunk'));
    const text = all.map((e) => choicesOf(e)[0]?.delta?.content ?? '').join('');
    assert.equal(text, localReply(chat));
    assert.ok(all.at(-1)?.usage, 'the last chunk carries the usage');
  });

  it('a streamed text completion: text_completion chunks with text, not chat deltas', async () => {
    const all = await events(await invoke(request('completions', prompt, true)));
    assert.ok(all.length > 2);
    assert.ok(
      all.every((e) => e.object === 'text_completion'),
      JSON.stringify(all[0]),
    );
    const content = all.slice(0, -1);
    assert.ok(content.every((e) => choicesOf(e)[0]?.delta === undefined));
    assert.equal(content.map((e) => choicesOf(e)[0]?.text ?? '').join(''), localReply(prompt));
    assert.equal(choicesOf(all.at(-2)!)[0]?.finish_reason, 'stop');
    assert.deepEqual(choicesOf(all.at(-1)!), []);
    assert.ok(all.at(-1)?.usage, 'the last chunk carries the usage');
  });

  it('answers n choices, each billed, in JSON and in a stream', async () => {
    const body = { ...chat, n: 3 };
    const one = await invoke(request('chat', chat));
    const three = await invoke(request('chat', body));
    assert.ok(one.kind === 'json' && three.kind === 'json');
    const choices = three.body.choices as { index: number; message: { content: string } }[];
    assert.deepEqual(
      choices.map((c) => [c.index, c.message.content]),
      [0, 1, 2].map((index) => [index, localReply(body)]),
    );
    assert.equal(three.usage.outputTokens, 3 * one.usage.outputTokens);

    const all = await events(await invoke(request('chat', body, true)));
    for (const index of [0, 1, 2]) {
      const mine = all.filter(
        (e) => choicesOf(e)[0] && (e.choices as { index: number }[])[0].index === index,
      );
      assert.equal(
        mine.map((e) => choicesOf(e)[0]?.delta?.content ?? '').join(''),
        localReply(body),
      );
      assert.equal(choicesOf(mine.at(-1)!)[0]?.finish_reason, 'stop');
    }
    const completions = await invoke(request('completions', { ...prompt, n: 2 }));
    assert.ok(completions.kind === 'json');
    assert.equal((completions.body.choices as unknown[]).length, 2);
  });

  it('completes each prompt of a list, n choices each, in JSON and in a stream', async () => {
    const body = { prompt: ['one', 'two', 'three'], n: 2 };
    const one = await invoke(request('completions', { prompt: ['one'] }));
    const answer = await invoke(request('completions', body));
    assert.ok(one.kind === 'json' && answer.kind === 'json');
    const indexes = (answer.body.choices as { index: number }[]).map((choice) => choice.index);
    assert.deepEqual(indexes, [0, 1, 2, 3, 4, 5]);
    assert.equal(answer.usage.outputTokens, 6 * one.usage.outputTokens);
    const streamed = await events(await invoke(request('completions', body, true)));
    const finished = streamed.filter((e) => choicesOf(e)[0]?.finish_reason === 'stop');
    assert.deepEqual(
      finished.map((e) => (e.choices as { index: number }[])[0].index),
      [0, 1, 2, 3, 4, 5],
    );
  });

  describe('embeddings', () => {
    const embed = (body: JsonObject) =>
      invoke(request('embeddings', { model: 'm', input: ['a', 'b'], ...body }));
    const refusesDimensions = (error: unknown) =>
      error instanceof DataPlaneError &&
      error.code === DataPlaneErrorCode.InvalidRequest &&
      error.param === 'dimensions';

    it('answers unit vectors of the size asked, up to the largest OpenAI makes', async () => {
      for (const dimensions of [1, 3072]) {
        const answer = await embed({ dimensions, encoding_format: 'float' });
        assert.ok(answer.kind === 'json');
        const vectors = (answer.body.data as { embedding: number[] }[]).map((d) => d.embedding);
        assert.deepEqual(
          vectors.map((vector) => vector.length),
          [dimensions, dimensions],
        );
        const norm = Math.sqrt(vectors[0].reduce((sum, value) => sum + value * value, 0));
        assert.ok(Math.abs(norm - 1) < 1e-9, `norm ${norm}`);
      }
    });

    it('embeds a list of token ids as one input, and refuses more inputs than OpenAI takes (2048)', async () => {
      const many = (count: number) => embed({ input: Array<string>(count).fill('') });
      const answer = await many(2048);
      assert.ok(answer.kind === 'json');
      assert.equal((answer.body.data as unknown[]).length, 2048);
      // One list of token ids is one input, as on OpenAI (it was one vector per id).
      const ids = await embed({ input: [1, 2, 3] });
      assert.ok(ids.kind === 'json');
      assert.equal((ids.body.data as unknown[]).length, 1);
      await assert.rejects(
        many(2049),
        (error: unknown) => error instanceof DataPlaneError && error.param === 'input',
      );
    });

    it('refuses a size past it, or not a positive whole number, before making any vector', async () => {
      // Made as asked, 200,000 values a vector overflowed the stack in a 500; a hundred
      // million held the event loop for most of a minute first.
      for (const dimensions of [3073, 200_000, 0, -5, 2.5, '256']) {
        await assert.rejects(embed({ dimensions }), refusesDimensions, String(dimensions));
      }
    });
  });
});
