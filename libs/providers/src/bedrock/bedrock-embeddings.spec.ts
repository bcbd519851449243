import type { ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type JsonAnswer,
  type JsonObject,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  type AnswerMode,
  FakeBedrockUpstream,
  gatewayChatRequest,
  type ProviderFakeCall,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { BedrockAdapter } from './bedrock.adapter';
import { bedrockEmbeddingModel } from './bedrock-embeddings';
import { baseModelId } from './bedrock-model-id';
import { TEST_AWS_CREDENTIALS, useEnvAwsCredentials } from '../testing/env-aws-credentials';

const TITAN_V2 = 'amazon.titan-embed-text-v2:0';
const TITAN_V1 = 'amazon.titan-embed-text-v1';
const COHERE_V3 = 'cohere.embed-english-v3';
const COHERE_V4 = 'cohere.embed-v4:0';

/** Calls held until `width` are in flight at once (or all `total` have come). */
interface Gate {
  readonly width: number;
  readonly total: number;
  arrived: number;
  /** Each held call's release, the latest to come last. */
  readonly held: (() => void)[];
  /** Whether the first full house has been looked at for a call beyond `width`. */
  looked: boolean;
}

/**
 * The fake Bedrock Runtime, with each call held for a time its text chooses, so calls
 * made in input order come back in another, or held by a gate (see `holdInFlight`); it
 * also counts the calls in flight at once.
 */
class SlowBedrockUpstream extends FakeBedrockUpstream {
  readonly delayMs = new Map<string, number>();
  running = 0;
  mostRunning = 0;
  private gate?: Gate;

  override reset(): void {
    super.reset();
    this.delayMs.clear();
    this.mostRunning = 0;
    this.gate = undefined;
  }

  /**
   * Holds every call until `width` are held at once, then answers the latest held (so the
   * answers come in another order than the calls); once all `total` have come, the rest
   * are answered latest first, one after another. No call ends before `width` are in
   * flight, however slow the machine: the count, not a time, decides.
   */
  holdInFlight(width: number, total: number): void {
    this.gate = { width, total, arrived: 0, held: [], looked: false };
  }

  protected override async answer(
    call: ProviderFakeCall,
    response: ServerResponse,
    mode: AnswerMode,
  ) {
    this.running += 1;
    this.mostRunning = Math.max(this.mostRunning, this.running);
    try {
      const delay = this.delayMs.get(String(call.body.inputText ?? call.body.texts));
      if (delay) await sleep(delay);
      if (this.gate) await this.pass(this.gate);
      await super.answer(call, response, mode);
    } finally {
      this.running -= 1;
      if (this.gate && this.gate.arrived === this.gate.total) this.gate.held.pop()?.();
    }
  }

  private pass(gate: Gate): Promise<void> {
    return new Promise<void>((release) => {
      gate.held.push(release);
      gate.arrived += 1;
      if (gate.held.length < gate.width && gate.arrived < gate.total) return;
      if (gate.looked) {
        gate.held.pop()?.();
        return;
      }
      // A moment for any call past `width` a broken bound sent with the first ones to
      // arrive and count in mostRunning. The pass never waits on it: calls only end later.
      gate.looked = true;
      setTimeout(() => gate.held.pop()?.(), 20);
    });
  }
}

function embeddingsRequest(body: JsonObject): GatewayRequest {
  return gatewayChatRequest(
    { model: 'embedder', messages: undefined, ...body },
    { operation: 'embeddings', requestedModel: 'embedder' },
  );
}

function asJson(answer: GatewayAnswer): JsonAnswer {
  if (answer.kind !== 'json') return assert.fail('expected a JSON answer');
  return answer;
}

/** The vectors of an embeddings list, in its order. */
function vectorsOf(answer: GatewayAnswer): number[][] {
  const data = asJson(answer).body.data as { index: number; embedding: number[] }[];
  data.forEach((item, position) => assert.equal(item.index, position));
  return data.map((item) => item.embedding);
}

function isInvalid(param: string, message?: RegExp) {
  return (error: unknown) =>
    error instanceof DataPlaneError &&
    error.code === DataPlaneErrorCode.InvalidRequest &&
    error.param === param &&
    (message === undefined || message.test(error.message));
}

function hasCode(code: DataPlaneErrorCode) {
  return (error: unknown) => error instanceof DataPlaneError && error.code === code;
}

describe('Bedrock model ids that embed', () => {
  it('reads the base model id out of inference profiles and ARNs', () => {
    assert.equal(baseModelId('us.amazon.titan-embed-text-v2:0'), TITAN_V2);
    assert.equal(baseModelId('global.cohere.embed-v4:0'), COHERE_V4);
    assert.equal(
      baseModelId('arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v1'),
      TITAN_V1,
    );
    assert.equal(
      baseModelId('arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.cohere.embed-v4:0'),
      COHERE_V4,
    );
    assert.equal(baseModelId(TITAN_V2), TITAN_V2);
  });

  it('knows Titan and Cohere Embed, and no other model', () => {
    for (const id of [
      TITAN_V2,
      TITAN_V1,
      'amazon.titan-embed-g1-text-02',
      COHERE_V3,
      'cohere.embed-multilingual-v3',
      COHERE_V4,
      'apac.cohere.embed-v4:0',
    ]) {
      assert.ok(bedrockEmbeddingModel(id), id);
    }
    for (const id of [
      'anthropic.claude-3-5-sonnet-20240620-v1:0',
      'amazon.titan-text-express-v1',
      'cohere.command-r-v1:0',
      'meta.llama3-1-8b-instruct-v1:0',
      'arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123',
    ]) {
      assert.equal(bedrockEmbeddingModel(id), undefined, id);
    }
  });
});

describe('BedrockAdapter embeddings against a fake Bedrock Runtime that checks SigV4', () => {
  const upstream = new SlowBedrockUpstream(TEST_AWS_CREDENTIALS);
  useEnvAwsCredentials(TEST_AWS_CREDENTIALS);
  let adapter: BedrockAdapter;
  const embed = (
    model: string,
    body: JsonObject,
    timeouts: Pick<Partial<UpstreamTarget>, 'requestTimeoutMs' | 'firstByteTimeoutMs'> = {},
  ) =>
    adapter.invoke({
      request: embeddingsRequest(body),
      target: upstreamTarget({
        provider: 'bedrock',
        model,
        baseUrl: upstream.baseUrl,
        ...timeouts,
      }),
      signal: new AbortController().signal,
    });
  /** Every call the fake got was signed with the configured credentials. */
  const assertAllSigned = async () => {
    for (const call of upstream.calls) {
      assert.match(String(call.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKID/);
      assert.equal(await upstream.verifySignature(call), undefined);
    }
  };

  before(async () => {
    adapter = new BedrockAdapter();
    await upstream.start();
  });
  after(async () => {
    await upstream.stop();
  });
  beforeEach(() => upstream.reset());

  describe('Titan Text Embeddings V2', () => {
    it('embeds a list of three with three signed InvokeModel calls, in input order, usage summed', async () => {
      // The first input's call is held longest, so the answers arrive last to first.
      upstream.delayMs.set('one', 60).set('two words', 30);
      const answer = asJson(
        await embed(TITAN_V2, { input: ['one', 'two words', 'three more words'], dimensions: 256 }),
      );
      assert.equal(upstream.calls.length, 3);
      for (const call of upstream.calls) {
        assert.equal(call.path, `/model/${encodeURIComponent(TITAN_V2)}/invoke`);
        assert.equal(call.headers.accept, 'application/json');
        assert.equal(call.headers['content-type'], 'application/json');
      }
      assert.deepEqual(
        upstream.calls
          .map((call) => call.body)
          .sort((a, b) => String(a.inputText).length - String(b.inputText).length),
        [
          { inputText: 'one', dimensions: 256 },
          { inputText: 'two words', dimensions: 256 },
          { inputText: 'three more words', dimensions: 256 },
        ],
      );
      await assertAllSigned();
      const vectors = vectorsOf(answer);
      // The fake's vectors start with their text's length.
      assert.deepEqual(
        vectors.map((vector) => vector[0]),
        [3, 9, 16],
      );
      assert.ok(vectors.every((vector) => vector.length === 256));
      // Bedrock's counts of 1, 2 and 3 words, added up.
      assert.deepEqual(answer.usage, {
        inputTokens: 6,
        outputTokens: 0,
        cachedInputTokens: 0,
        source: 'reported',
      });
      assert.deepEqual(answer.body.usage, { prompt_tokens: 6, total_tokens: 6 });
      assert.equal(answer.body.object, 'list');
      assert.equal(answer.body.model, TITAN_V2);
      assert.equal(answer.servedBy.model, TITAN_V2);
    });

    it('keeps at most 8 calls in flight, and the order, for a long list', async () => {
      const inputs = Array.from({ length: 30 }, (_, index) => 'w'.repeat(index + 1));
      // Answered only once eight are in flight, the latest first: 8, 9 ... 30, then 7 ... 1.
      upstream.holdInFlight(8, inputs.length);
      // Held calls answer as late as the machine lets the others come: timeouts are not
      // what this case is about, so they are far off.
      const patient = { requestTimeoutMs: 20_000, firstByteTimeoutMs: 20_000 };
      const vectors = vectorsOf(await embed(TITAN_V2, { input: inputs }, patient));
      assert.equal(upstream.calls.length, 30);
      assert.equal(upstream.mostRunning, 8);
      assert.deepEqual(
        vectors.map((vector) => vector[0]),
        inputs.map((text) => text.length),
      );
      assert.ok(vectors.every((vector) => vector.length === 1024));
      assert.equal(upstream.calls[0].body.dimensions, undefined);
    });

    it('refuses dimensions Titan does not take before calling, naming dimensions', async () => {
      for (const dimensions of [300, 1536, 8]) {
        await assert.rejects(
          embed(TITAN_V2, { input: 'x', dimensions }),
          isInvalid('dimensions', /256, 512 or 1024/),
          String(dimensions),
        );
      }
      await assert.rejects(
        embed(TITAN_V2, { input: 'x', dimensions: 1.5 }),
        isInvalid('dimensions'),
      );
      assert.equal(upstream.calls.length, 0);
    });

    it('encodes the vectors as base64 float32 when the client asks, as the openai SDK does', async () => {
      const answer = asJson(await embed(TITAN_V2, { input: 'hello', encoding_format: 'base64' }));
      const [item] = answer.body.data as { embedding: string }[];
      assert.equal(typeof item.embedding, 'string');
      const bytes = Buffer.from(item.embedding, 'base64');
      const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      assert.equal(floats.length, 1024);
      assert.equal(floats[0], 5);
      assert.equal(floats[1], 'h'.charCodeAt(0));
      assert.equal(floats[2], Math.fround(0.002));
    });

    it("prefers Bedrock's token-count header, then the body's count, then an estimate", async () => {
      const titanAnswer = { embedding: [0.1, 0.2, 0.3], inputTextTokenCount: 3 };
      upstream.next({
        kind: 'status',
        status: 200,
        body: titanAnswer,
        headers: { 'x-amzn-bedrock-input-token-count': '7' },
      });
      assert.equal(asJson(await embed(TITAN_V2, { input: 'x' })).usage.inputTokens, 7);

      upstream.next({ kind: 'json', body: titanAnswer });
      const fromBody = asJson(await embed(TITAN_V2, { input: 'x' })).usage;
      assert.deepEqual([fromBody.inputTokens, fromBody.source], [3, 'reported']);

      upstream.next({ kind: 'json', body: { embedding: [0.1, 0.2, 0.3] } });
      upstream.next({ kind: 'json', body: titanAnswer });
      // Calls run at once, so either text may get either answer: one estimated token, and
      // three reported, make an estimate as a whole.
      const partly = asJson(await embed(TITAN_V2, { input: ['x', 'y'] })).usage;
      assert.deepEqual([partly.inputTokens, partly.source], [4, 'estimated']);
    });

    it('reads the vector from embeddingsByType when embedding is missing', async () => {
      upstream.next({
        kind: 'json',
        body: { embeddingsByType: { float: [1, 2] }, inputTextTokenCount: 1 },
      });
      assert.deepEqual(vectorsOf(await embed(TITAN_V2, { input: 'x' })), [[1, 2]]);
    });
  });

  describe('Titan Text Embeddings V1', () => {
    it('sends inputText alone, and refuses dimensions before calling', async () => {
      const vectors = vectorsOf(await embed(TITAN_V1, { input: ['ab', 'c'] }));
      assert.deepEqual(
        upstream.calls
          .map((call) => call.body)
          .sort((a, b) => String(a.inputText).localeCompare(String(b.inputText))),
        [{ inputText: 'ab' }, { inputText: 'c' }],
      );
      assert.deepEqual(
        vectors.map((vector) => [vector[0], vector.length]),
        [
          [2, 1536],
          [1, 1536],
        ],
      );
      await assertAllSigned();
      upstream.reset();
      await assert.rejects(
        embed(TITAN_V1, { input: 'x', dimensions: 256 }),
        isInvalid('dimensions', /takes no dimensions/),
      );
      assert.equal(upstream.calls.length, 0);
    });
  });

  describe('Cohere Embed', () => {
    it('v3: sends texts as documents with float embeddings asked for, and reads them by type', async () => {
      const answer = asJson(await embed(COHERE_V3, { input: ['a', 'bb'] }));
      assert.equal(upstream.calls.length, 1);
      assert.equal(upstream.calls[0].path, `/model/${encodeURIComponent(COHERE_V3)}/invoke`);
      assert.deepEqual(upstream.calls[0].body, {
        texts: ['a', 'bb'],
        input_type: 'search_document',
        embedding_types: ['float'],
      });
      await assertAllSigned();
      assert.deepEqual(
        vectorsOf(answer).map((vector) => [vector[0], vector.length]),
        [
          [1, 1024],
          [2, 1024],
        ],
      );
      assert.deepEqual([answer.usage.inputTokens, answer.usage.source], [2, 'reported']);
    });

    it("v3: passes the client's input_type and refuses dimensions, which v3 does not take", async () => {
      await embed(COHERE_V3, { input: 'q', input_type: 'search_query' });
      assert.equal(upstream.calls[0].body.input_type, 'search_query');
      await assert.rejects(
        embed('cohere.embed-multilingual-v3', { input: 'q', dimensions: 512 }),
        isInvalid('dimensions'),
      );
      assert.equal(upstream.calls.length, 1);
    });

    it('v4: sends dimensions as output_dimension, and refuses sizes v4 does not make', async () => {
      const vectors = vectorsOf(await embed(COHERE_V4, { input: ['a', 'b'], dimensions: 512 }));
      assert.equal(upstream.calls[0].body.output_dimension, 512);
      assert.ok(vectors.every((vector) => vector.length === 512));
      await assert.rejects(
        embed(COHERE_V4, { input: 'a', dimensions: 100 }),
        isInvalid('dimensions', /256, 512, 1024 or 1536/),
      );
      assert.equal(upstream.calls.length, 1);
    });

    it('reads a bare list of floats, estimating usage Bedrock did not report', async () => {
      upstream.next({
        kind: 'json',
        body: {
          id: 'emb-1',
          embeddings: [
            [0.5, 0.25],
            [0.75, 1],
          ],
          response_type: 'embeddings_floats',
          texts: ['a', 'b'],
        },
      });
      const answer = asJson(await embed(COHERE_V4, { input: ['a', 'b'] }));
      assert.deepEqual(vectorsOf(answer), [
        [0.5, 0.25],
        [0.75, 1],
      ]);
      assert.deepEqual([answer.usage.inputTokens, answer.usage.source], [2, 'estimated']);
    });

    it('splits more than 96 texts into calls of 96, keeping the order', async () => {
      const inputs = Array.from({ length: 200 }, (_, index) => 'z'.repeat(index + 1));
      const answer = asJson(await embed(COHERE_V4, { input: inputs, dimensions: 256 }));
      const batches = upstream.calls.map((call) => call.body.texts as string[]);
      assert.deepEqual(batches.map((texts) => texts.length).sort(), [8, 96, 96]);
      assert.deepEqual(
        batches.flat().sort((a, b) => a.length - b.length),
        inputs,
      );
      await assertAllSigned();
      assert.deepEqual(
        vectorsOf(answer).map((vector) => vector[0]),
        inputs.map((text) => text.length),
      );
      assert.equal(answer.usage.inputTokens, 200);
    });
  });

  describe('what is refused before calling', () => {
    it('an embeddings request for a Bedrock model that does not embed', async () => {
      await assert.rejects(
        embed('anthropic.claude-3-5-sonnet-20240620-v1:0', { input: 'x' }),
        isInvalid('model', /route this model to a backend that does/),
      );
      assert.equal(upstream.calls.length, 0);
    });

    it('token ids as input, and more inputs than OpenAI takes', async () => {
      for (const input of [[1, 2, 3], [[1, 2]], [], 42]) {
        await assert.rejects(embed(TITAN_V2, { input }), isInvalid('input'), JSON.stringify(input));
      }
      await assert.rejects(
        embed(COHERE_V4, { input: Array.from({ length: 2049 }, () => 'x') }),
        isInvalid('input', /at most 2048/),
      );
      assert.equal(upstream.calls.length, 0);
    });
  });

  describe('failures', () => {
    it('maps a throttled call to a rate limit, with its Retry-After', async () => {
      upstream.next({ kind: 'ok' }).next({
        kind: 'status',
        status: 429,
        body: { message: 'Too many requests, please wait before trying again.' },
        headers: { 'x-amzn-errortype': 'ThrottlingException', 'retry-after': '2' },
      });
      await assert.rejects(embed(TITAN_V2, { input: ['a', 'b', 'c'] }), (error: unknown) => {
        assert.ok(error instanceof DataPlaneError);
        assert.equal(error.code, DataPlaneErrorCode.UpstreamRateLimited);
        assert.equal(error.upstreamStatus, 429);
        assert.equal(error.retryAfterMs, 2000);
        assert.match(error.message, /Too many requests/);
        return true;
      });
    });

    it("maps InvokeModel's 400 ServiceQuotaExceededException and ThrottlingException to a rate limit", async () => {
      // The type in x-amzn-errortype, or only in the body's __type.
      const answers: { body: JsonObject; headers: Record<string, string> }[] = [
        {
          body: { message: 'Your request exceeded the quota for this account.' },
          headers: {
            'x-amzn-errortype': 'ServiceQuotaExceededException:http://internal.amazon.com/',
            'retry-after': '3',
          },
        },
        {
          body: {
            __type: 'com.amazon.coral.service#ThrottlingException',
            message: 'Too many tokens, please wait before trying again.',
          },
          headers: {},
        },
      ];
      for (const [index, answer] of answers.entries()) {
        upstream.next({ kind: 'status', status: 400, ...answer });
        await assert.rejects(embed(TITAN_V2, { input: 'x' }), (error: unknown) => {
          assert.ok(error instanceof DataPlaneError);
          assert.equal(error.code, DataPlaneErrorCode.UpstreamRateLimited, error.message);
          assert.equal(error.trigger, 'rateLimit');
          assert.equal(error.upstreamStatus, 400);
          assert.equal(error.retryAfterMs, index === 0 ? 3000 : undefined);
          assert.match(error.message, /answered 400: (Your request exceeded|Too many tokens)/);
          return true;
        });
      }
    });

    it('maps a validation error to a rejection and a refused signature to a backend failure', async () => {
      upstream.next({
        kind: 'status',
        status: 400,
        body: { message: 'Malformed input request: expected maxLength: 50000' },
        headers: { 'x-amzn-errortype': 'ValidationException' },
      });
      await assert.rejects(
        embed(TITAN_V2, { input: 'x' }),
        hasCode(DataPlaneErrorCode.UpstreamRejected),
      );
      const wrong = new BedrockAdapter(undefined, {
        ...TEST_AWS_CREDENTIALS,
        secretAccessKey: 'nope',
      });
      await assert.rejects(
        wrong.invoke({
          request: embeddingsRequest({ input: 'x' }),
          target: upstreamTarget({
            provider: 'bedrock',
            model: TITAN_V2,
            baseUrl: upstream.baseUrl,
          }),
          signal: new AbortController().signal,
        }),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.UpstreamError &&
          error.upstreamStatus === 403,
      );
    });

    it('reports a body without the vectors asked for as a bad response', async () => {
      const cases: [string, JsonObject][] = [
        [TITAN_V2, {}],
        [TITAN_V2, { embedding: 'not a vector' }],
        [TITAN_V2, { embedding: [1, null, 3] }],
        [TITAN_V2, { embedding: [] }],
        [COHERE_V3, { embeddings: { float: [[1, 2]] } }],
        [COHERE_V3, { embeddings: { int8: [[1], [2]] } }],
        [
          COHERE_V3,
          {
            embeddings: {
              float: [
                [1, 2],
                [1, 2, 3],
              ],
            },
          },
        ],
      ];
      for (const [model, body] of cases) {
        upstream.next({ kind: 'json', body });
        await assert.rejects(
          embed(model, { input: ['a', 'b'].slice(0, model === TITAN_V2 ? 1 : 2) }),
          hasCode(DataPlaneErrorCode.UpstreamBadResponse),
          JSON.stringify(body),
        );
      }
      upstream.next({ kind: 'garbage' });
      await assert.rejects(
        embed(TITAN_V2, { input: 'x' }),
        hasCode(DataPlaneErrorCode.UpstreamBadResponse),
      );
    });

    it('reports Titan calls answering vectors of different sizes as a bad response', async () => {
      upstream.next({ kind: 'json', body: { embedding: [1, 2] } });
      upstream.next({ kind: 'json', body: { embedding: [1, 2, 3] } });
      await assert.rejects(
        embed(TITAN_V2, { input: ['a', 'b'] }),
        hasCode(DataPlaneErrorCode.UpstreamBadResponse),
      );
    });

    it('reports vectors of another size than the dimensions asked for as a bad response', async () => {
      upstream.next({ kind: 'json', body: { embedding: [1, 2, 3] } });
      await assert.rejects(
        embed(TITAN_V2, { input: 'a', dimensions: 256 }),
        hasCode(DataPlaneErrorCode.UpstreamBadResponse),
      );
    });
  });

  it('sends a Bedrock API key as a bearer token instead of signing', async () => {
    await adapter
      .invoke({
        request: embeddingsRequest({ input: 'x' }),
        target: upstreamTarget(
          { provider: 'bedrock', model: TITAN_V2, baseUrl: upstream.baseUrl },
          { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'bedrock-api-key' },
        ),
        signal: new AbortController().signal,
      })
      .catch(() => undefined); // the fake accepts only SigV4
    assert.equal(upstream.calls[0].headers.authorization, 'Bearer bedrock-api-key');
    assert.equal(upstream.calls[0].headers['x-amz-date'], undefined);
  });

  it('calls an inference profile by its own id, encoded as one path segment', async () => {
    const profile = 'us.amazon.titan-embed-text-v2:0';
    const answer = asJson(await embed(profile, { input: 'x' }));
    assert.equal(upstream.calls[0].path, `/model/${encodeURIComponent(profile)}/invoke`);
    assert.deepEqual(upstream.calls[0].body, { inputText: 'x' });
    assert.equal(vectorsOf(answer).length, 1);
  });
});
