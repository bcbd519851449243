import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonAnswer,
  type JsonObject,
  type StreamAnswer,
  type TokenUsage,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  collectStream,
  gatewayChatRequest,
  streamedFinishReason,
  streamedText,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { parseChatRequest } from '../core/chat-request';
import { BedrockAdapter } from './bedrock.adapter';
import { toConverseRequest } from './bedrock-request';
import { answerTool } from '../core/answer-tool';

// Fixtures follow the Bedrock Runtime API reference for Converse and ConverseStream.
const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const USAGE = { inputTokens: 12, outputTokens: 4, totalTokens: 16 };
const codec = new EventStreamCodec(toUtf8, fromUtf8);

type Frame = Uint8Array;

function frame(headers: Record<string, string>, body: Uint8Array): Frame {
  const typed = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, { type: 'string' as const, value }]),
  );
  return codec.encode({ headers: typed, body });
}

function eventFrame(name: string, payload: unknown): Frame {
  return frame(
    { ':message-type': 'event', ':event-type': name, ':content-type': 'application/json' },
    fromUtf8(JSON.stringify(payload)),
  );
}

function exceptionFrame(name: string, message: string): Frame {
  return frame(
    { ':message-type': 'exception', ':exception-type': name, ':content-type': 'application/json' },
    fromUtf8(JSON.stringify({ message })),
  );
}

/** Only the 12-byte prelude of a frame: its declared lengths with a valid CRC. */
function prelude(totalLength: number, headersLength = 0): Frame {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(totalLength, 0);
  bytes.writeUInt32BE(headersLength, 4);
  bytes.writeUInt32BE(crc32(bytes.subarray(0, 8)), 8);
  return bytes;
}

const textDelta = (text: string, contentBlockIndex = 0): Frame =>
  eventFrame('contentBlockDelta', { contentBlockIndex, delta: { text } });
const MESSAGE_START = eventFrame('messageStart', { role: 'assistant' });
const END_TURN = eventFrame('messageStop', { stopReason: 'end_turn' });
const METADATA = eventFrame('metadata', { usage: USAGE, metrics: { latencyMs: 80 } });

/** A complete, well-formed ConverseStream around `middle`. */
function wellFormed(...middle: Frame[]): Frame[] {
  return [MESSAGE_START, ...middle, END_TURN, METADATA];
}

/**
 * A Bedrock Runtime stand-in that answers each request exactly as a test says: raw
 * event-stream bytes or a JSON body, so frames can be corrupted at will.
 */
class RawBedrock {
  private readonly server: Server;
  private reply: (response: ServerResponse) => void = (response) => response.end();
  calls = 0;

  constructor() {
    this.server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        this.calls += 1;
        this.reply(response);
      });
    });
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  json(body: unknown): void {
    this.reply = (response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
  }

  /** Sends the frames; `keepOpen` leaves the connection hanging after them. */
  frames(frames: readonly Frame[], options: { keepOpen?: boolean; contentType?: string } = {}) {
    this.reply = (response) => {
      response.writeHead(200, {
        'content-type': options.contentType ?? 'application/vnd.amazon.eventstream',
      });
      for (const bytes of frames) response.write(bytes);
      if (!options.keepOpen) response.end();
    };
  }
}

function isError(code: DataPlaneErrorCode, message?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof DataPlaneError, `expected a DataPlaneError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

function assertWholeCounts(usage: TokenUsage): void {
  const written = usage.cacheWriteInputTokens ?? 0;
  for (const count of [usage.inputTokens, usage.outputTokens, usage.cachedInputTokens, written]) {
    assert.ok(Number.isSafeInteger(count) && count >= 0, `${count} is not a whole count`);
  }
  assert.ok(usage.cachedInputTokens <= usage.inputTokens);
  assert.ok(written <= usage.inputTokens);
}

describe('BedrockAdapter against an upstream that breaks the Converse reference', () => {
  const upstream = new RawBedrock();
  const saved = process.env.AWS_REGION;
  const adapter = new BedrockAdapter();
  let target: UpstreamTarget;

  const invoke = (request: GatewayRequest) =>
    adapter.invoke({ request, target, signal: new AbortController().signal });
  const converse = async (body: unknown): Promise<JsonAnswer> => {
    upstream.json(body);
    return (await invoke(gatewayChatRequest())) as JsonAnswer;
  };
  const converseStream = async (
    frames: readonly Frame[],
    options?: { keepOpen?: boolean; contentType?: string },
  ): Promise<StreamAnswer> => {
    upstream.frames(frames, options);
    return (await invoke(gatewayChatRequest({ stream: true }))) as StreamAnswer;
  };
  const answerOf = (content: unknown, extra: JsonObject = {}) => ({
    output: { message: { role: 'assistant', content } },
    stopReason: 'end_turn',
    usage: USAGE,
    metrics: { latencyMs: 80 },
    ...extra,
  });

  before(async () => {
    process.env.AWS_REGION = 'us-east-1';
    await upstream.start();
    // A Bedrock API key: no SigV4 signing, so the raw upstream needs no credentials.
    target = upstreamTarget(
      { provider: 'bedrock', model: MODEL, baseUrl: upstream.origin },
      { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'bedrock-api-key' },
    );
  });
  after(async () => {
    if (saved === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = saved;
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.calls = 0;
  });

  describe('Converse answers', () => {
    it('refuses a content block that is not an object as a bad response, not a TypeError', async () => {
      await assert.rejects(
        converse(answerOf([null, { text: 'Hi.' }])),
        isError(DataPlaneErrorCode.UpstreamBadResponse, /content block/),
      );
    });

    it('refuses a text block whose text is not a string', async () => {
      await assert.rejects(
        converse(answerOf([{ text: { value: 'Hi.' } }])),
        isError(DataPlaneErrorCode.UpstreamBadResponse, /text/),
      );
    });

    it('refuses a toolUse whose input is not a JSON object', async () => {
      for (const input of ['{"city":"Paris"}', ['Paris'], 42]) {
        const toolUse = { toolUseId: 'tooluse_1', name: 'get_weather', input };
        await assert.rejects(
          converse(answerOf([{ toolUse }], { stopReason: 'tool_use' })),
          isError(DataPlaneErrorCode.UpstreamBadResponse, /input/),
        );
      }
    });

    it('refuses a toolUse without its id or name instead of dropping the call', async () => {
      for (const toolUse of [
        { name: 'get_weather', input: {} },
        { toolUseId: 'tooluse_1', input: {} },
        { toolUseId: '', name: 'get_weather', input: {} },
      ]) {
        await assert.rejects(
          converse(answerOf([{ toolUse }], { stopReason: 'tool_use' })),
          isError(DataPlaneErrorCode.UpstreamBadResponse, /toolUse/),
        );
      }
    });

    it('refuses an answer without output.message.content, or with content not a list', async () => {
      for (const body of [
        { stopReason: 'end_turn', usage: USAGE },
        answerOf(undefined),
        answerOf({ text: 'Hi.' }),
        { ...answerOf([]), output: 'nothing' },
      ]) {
        await assert.rejects(converse(body), isError(DataPlaneErrorCode.UpstreamBadResponse));
      }
    });

    it('skips block types without an OpenAI counterpart and takes an unknown stopReason as stop', async () => {
      const answer = await converse(
        answerOf([{ someFutureBlock: { data: 1 } }, { text: 'Hi.' }], {
          stopReason: 'a_reason_added_later',
        }),
      );
      const choice = (answer.body.choices as JsonObject[])[0];
      assert.deepEqual(choice.message, { role: 'assistant', content: 'Hi.' });
      assert.equal(choice.finish_reason, 'stop');
    });

    it('refuses reasoningContent of the wrong shape instead of losing reasoning to send back', async () => {
      for (const reasoningContent of [
        'Thinking.',
        { reasoningText: { text: 42, signature: 'sig' } },
        { reasoningText: { text: 'Thinking.', signature: ['sig'] } },
      ]) {
        await assert.rejects(
          converse(answerOf([{ reasoningContent }, { text: 'Hi.' }])),
          isError(DataPlaneErrorCode.UpstreamBadResponse, /reasoning/),
          JSON.stringify(reasoningContent),
        );
      }
    });

    it('keeps token counts whole, non-negative and safe whatever usage says', async () => {
      const answer = await converse(
        answerOf([{ text: 'Hi.' }], {
          usage: {
            inputTokens: 2 ** 52,
            outputTokens: 3.2,
            cacheReadInputTokens: 2 ** 52,
            cacheWriteInputTokens: -7,
          },
        }),
      );
      assertWholeCounts(answer.usage);
      assert.equal(answer.usage.outputTokens, 4);
      assert.deepEqual((answer.body.usage as JsonObject).completion_tokens, 4);
    });

    it('takes the 1-hour cache writes from cacheDetails, ignoring unusable entries', async () => {
      const usage = {
        inputTokens: 10,
        outputTokens: 2,
        cacheWriteInputTokens: 3_000,
        cacheDetails: [
          { ttl: '1h', inputTokens: 1_000 },
          { ttl: '5m', inputTokens: 2_000 },
          { ttl: '1h', inputTokens: 'lots' },
          null,
        ],
      };
      const answer = await converse(answerOf([{ text: 'Hi.' }], { usage }));
      assert.equal(answer.usage.cacheWriteInputTokens, 3_000);
      assert.equal(answer.usage.cacheWrite1hInputTokens, 1_000);
      for (const cacheDetails of [undefined, [], [{ ttl: '5m', inputTokens: 3_000 }], {}]) {
        const plain = await converse(
          answerOf([{ text: 'Hi.' }], { usage: { ...usage, cacheDetails } }),
        );
        assert.ok(!('cacheWrite1hInputTokens' in plain.usage), JSON.stringify(cacheDetails));
      }
      // Never more than all the writes.
      const over = await converse(
        answerOf([{ text: 'Hi.' }], {
          usage: { ...usage, cacheDetails: [{ ttl: '1h', inputTokens: 9_000 }] },
        }),
      );
      assert.equal(over.usage.cacheWrite1hInputTokens, 3_000);
    });

    it('estimates usage reported as strings or negative counts instead of billing zero', async () => {
      for (const usage of [
        { inputTokens: '12', outputTokens: '4' },
        { inputTokens: -12, outputTokens: 4 },
        { inputTokens: 12, outputTokens: Number.MAX_VALUE },
      ]) {
        const answer = await converse(answerOf([{ text: 'Hi there.' }], { usage }));
        assert.equal(answer.usage.source, 'estimated');
        assert.ok(answer.usage.inputTokens > 0, 'the prompt is estimated');
        assertWholeCounts(answer.usage);
      }
    });

    it('estimates the usage of an answer that has none instead of failing over a good answer', async () => {
      const body: JsonObject = answerOf([{ text: 'Hi there.' }]);
      delete body.usage;
      const answer = await converse(body);
      assert.equal(answer.usage.source, 'estimated');
      assert.ok(answer.usage.outputTokens > 0);
      assertWholeCounts(answer.usage);
    });
  });

  describe('requests refused before any call', () => {
    it('refuses tool_choice "required" with no tools, which Converse would answer in text', async () => {
      for (const stream of [false, true]) {
        await assert.rejects(
          invoke(gatewayChatRequest({ stream, tool_choice: 'required' })),
          (error: unknown) =>
            isError(DataPlaneErrorCode.InvalidRequest, /tools/)(error) &&
            (error as DataPlaneError).param === 'tool_choice',
        );
      }
      assert.equal(upstream.calls, 0);
    });

    it('refuses a whitespace-only stop sequence for Claude, which refuses it as on Anthropic', async () => {
      for (const stop of ['\n', ['END', ' \t']]) {
        await assert.rejects(
          invoke(gatewayChatRequest({ stop })),
          (error: unknown) =>
            isError(DataPlaneErrorCode.InvalidRequest, /only whitespace/)(error) &&
            (error as DataPlaneError).param === 'stop',
        );
      }
      assert.equal(upstream.calls, 0);
    });
  });

  describe('ConverseStream exceptions', () => {
    for (const [exception, code] of [
      ['throttlingException', DataPlaneErrorCode.UpstreamRateLimited],
      ['validationException', DataPlaneErrorCode.UpstreamRejected],
      ['modelStreamErrorException', DataPlaneErrorCode.UpstreamError],
      ['internalServerException', DataPlaneErrorCode.UpstreamError],
      ['serviceUnavailableException', DataPlaneErrorCode.UpstreamError],
    ] as const) {
      it(`maps a ${exception} before the first chunk to ${code}, which the router acts on`, async () => {
        const answer = await converseStream([exceptionFrame(exception, 'Too many tokens.')]);
        await assert.rejects(collectStream(answer), isError(code, /Too many tokens\./));
        assertWholeCounts(await answer.usage);
      });
    }

    for (const [exception, code] of [
      ['throttlingException', DataPlaneErrorCode.UpstreamRateLimited],
      ['serviceUnavailableException', DataPlaneErrorCode.UpstreamError],
      ['modelStreamErrorException', DataPlaneErrorCode.UpstreamError],
    ] as const) {
      it(`maps a ${exception} right after messageStart to ${code}, no chunk sent`, async () => {
        // messageStart carries only the role: nothing the client could use went out, so
        // the router may still fail over.
        const answer = await converseStream([MESSAGE_START, exceptionFrame(exception, 'Busy.')]);
        const relayed: JsonObject[] = [];
        await assert.rejects(
          async () => {
            for await (const chunk of answer.events) relayed.push(chunk);
          },
          isError(code, /before answering: Busy\./),
        );
        assert.deepEqual(relayed, []);
      });
    }

    it('bills nothing for a stream Bedrock refused before answering, as for the same HTTP status', async () => {
      // A throttled or unavailable ConverseStream is not billed, as a 429 or 503 is not: an
      // estimate of its prompt would charge the caller's budget again for the backend
      // that serves after failover.
      for (const exception of ['throttlingException', 'serviceUnavailableException']) {
        const answer = await converseStream([MESSAGE_START, exceptionFrame(exception, 'Busy.')]);
        await assert.rejects(collectStream(answer));
        const usage = await answer.usage;
        assert.deepEqual([usage.inputTokens, usage.outputTokens], [0, 0], exception);
      }
      // A model that failed while answering may have read the prompt: its estimate stays.
      const failed = await converseStream([
        MESSAGE_START,
        exceptionFrame('modelStreamErrorException', 'Broke.'),
      ]);
      await assert.rejects(collectStream(failed));
      assert.ok((await failed.usage).inputTokens > 0);
    });

    it('sends the role chunk with the first content, and alone before an empty answer', async () => {
      const chunks = await collectStream(await converseStream(wellFormed(textDelta('Hi'))));
      const deltas = chunks.map((chunk) => (chunk.choices as JsonObject[])[0]?.delta);
      assert.deepEqual(deltas.slice(0, 2), [{ role: 'assistant', content: '' }, { content: 'Hi' }]);
      const empty = await collectStream(await converseStream(wellFormed()));
      const first = (empty[0].choices as JsonObject[])[0];
      assert.deepEqual(first.delta, { role: 'assistant', content: '' });
      assert.equal(streamedFinishReason(empty), 'stop');
    });

    it('ends the stream with StreamInterrupted when an exception follows the first chunk', async () => {
      const answer = await converseStream([
        MESSAGE_START,
        textDelta('Hel'),
        exceptionFrame('throttlingException', 'Rate exceeded.'),
      ]);
      await assert.rejects(
        collectStream(answer),
        isError(DataPlaneErrorCode.StreamInterrupted, /throttlingException.*Rate exceeded\./),
      );
    });

    it('keeps a huge exception message out of the error it reports', async () => {
      const answer = await converseStream([
        MESSAGE_START,
        exceptionFrame('modelStreamErrorException', 'x'.repeat(100_000)),
      ]);
      await assert.rejects(collectStream(answer), (error: unknown) => {
        assert.ok(error instanceof DataPlaneError);
        assert.ok(error.message.length < 1_000, `a message of ${error.message.length} chars`);
        return true;
      });
    });

    it('redacts a key-like string in an exception message before it reaches an error', async () => {
      const leaked = 'sk-live-0123456789abcdef';
      for (const before of [[], [MESSAGE_START, textDelta('Hel')]]) {
        const answer = await converseStream([
          ...before,
          exceptionFrame('accessDeniedException', `The key ${leaked} is not allowed.`),
        ]);
        await assert.rejects(collectStream(answer), (error: unknown) => {
          assert.ok(
            error instanceof DataPlaneError,
            `expected a DataPlaneError, got ${String(error)}`,
          );
          assert.match(error.message, /The key \[REDACTED\] is not allowed\./);
          assert.ok(!error.message.includes('0123456789abcdef'), error.message);
          return true;
        });
      }
    });

    it("reports an error frame's :error-code and :error-message headers", async () => {
      const errorFrame = frame(
        {
          ':message-type': 'error',
          ':error-code': 'InternalFailure',
          ':error-message': 'The server had a problem.',
        },
        new Uint8Array(0),
      );
      const answer = await converseStream([MESSAGE_START, textDelta('Hel'), errorFrame]);
      await assert.rejects(
        collectStream(answer),
        isError(DataPlaneErrorCode.StreamInterrupted, /InternalFailure.*The server had a problem/),
      );
    });
  });

  describe('ConverseStream frames', () => {
    it('refuses a frame whose checksum does not match', async () => {
      const corrupt = Buffer.from(textDelta('Hello'));
      corrupt[corrupt.length - 8] ^= 0xff; // a payload byte, so the message CRC fails
      const answer = await converseStream([MESSAGE_START, corrupt, END_TURN, METADATA]);
      await assert.rejects(
        collectStream(answer),
        isError(DataPlaneErrorCode.StreamInterrupted, /checksum/i),
      );
    });

    it('refuses a frame declaring more bytes than an event may hold, without waiting for them', async () => {
      const answer = await converseStream(
        [MESSAGE_START, prelude(0xfffffff0), new Uint8Array(64)],
        {
          keepOpen: true,
        },
      );
      const started = Date.now();
      await assert.rejects(
        collectStream(answer),
        isError(DataPlaneErrorCode.StreamInterrupted, /4294967280 bytes/),
      );
      // Well inside the request timeout (the kit's, 5 s): refused on the prelude, not on a
      // stalled body, which would take the whole timeout.
      const tookMs = Date.now() - started;
      assert.ok(tookMs < target.requestTimeoutMs / 2, `took ${tookMs} ms`);
    });

    it('refuses a frame declaring fewer bytes than a frame has', async () => {
      for (const length of [0, 3, 15]) {
        const answer = await converseStream([MESSAGE_START, prelude(length), new Uint8Array(32)]);
        await assert.rejects(
          collectStream(answer),
          isError(DataPlaneErrorCode.StreamInterrupted, new RegExp(`${length} bytes`)),
        );
      }
    });

    it('refuses a frame whose headers claim more bytes than the frame holds', async () => {
      const bytes = Buffer.from(textDelta('Hello'));
      bytes.writeUInt32BE(bytes.length, 4); // headers length past the payload
      bytes.writeUInt32BE(crc32(bytes.subarray(0, 8)), 8);
      bytes.writeUInt32BE(crc32(bytes.subarray(0, bytes.length - 4)), bytes.length - 4);
      const answer = await converseStream([MESSAGE_START, bytes]);
      await assert.rejects(
        collectStream(answer),
        isError(DataPlaneErrorCode.StreamInterrupted, /frame it cannot decode/),
      );
    });

    it('refuses a stream that ends inside a frame', async () => {
      const answer = await converseStream([MESSAGE_START, textDelta('Hello').subarray(0, 20)]);
      await assert.rejects(
        collectStream(answer),
        isError(DataPlaneErrorCode.StreamInterrupted, /inside a frame/),
      );
    });

    it('refuses an event whose payload is not a JSON object', async () => {
      for (const body of ['{"contentBlockIndex":', '["text"]', 'null']) {
        const bad = frame(
          { ':message-type': 'event', ':event-type': 'contentBlockDelta' },
          fromUtf8(body),
        );
        const answer = await converseStream([MESSAGE_START, bad, END_TURN, METADATA]);
        await assert.rejects(
          collectStream(answer),
          isError(DataPlaneErrorCode.StreamInterrupted, /JSON object/),
        );
      }
    });

    it('refuses a frame of a message type the protocol does not have', async () => {
      const odd = frame(
        { ':message-type': 'banana', ':event-type': 'messageStop' },
        fromUtf8('{}'),
      );
      const answer = await converseStream([MESSAGE_START, odd, METADATA]);
      await assert.rejects(
        collectStream(answer),
        isError(DataPlaneErrorCode.StreamInterrupted, /banana/),
      );
    });

    it('refuses a 200 answer that is not an event stream before reading it as frames', async () => {
      upstream.json({ message: 'Hello from a proxy' });
      await assert.rejects(
        invoke(gatewayChatRequest({ stream: true })),
        isError(DataPlaneErrorCode.UpstreamBadResponse, /application\/json/),
      );
    });
  });

  describe('ConverseStream events', () => {
    const toolStart = (contentBlockIndex: number, toolUse: JsonObject) =>
      eventFrame('contentBlockStart', { contentBlockIndex, start: { toolUse } });
    const toolDelta = (contentBlockIndex: number, input: unknown) =>
      eventFrame('contentBlockDelta', { contentBlockIndex, delta: { toolUse: { input } } });
    const WEATHER = { toolUseId: 'tooluse_1', name: 'get_weather' };

    it('sends the held role chunk first when the answer opens with a tool call or reasoning', async () => {
      const reasoningDelta = eventFrame('contentBlockDelta', {
        contentBlockIndex: 0,
        delta: { reasoningContent: { text: 'Checking the forecast.' } },
      });
      for (const opening of [
        [toolStart(0, WEATHER), toolDelta(0, '{"city":"Paris"}')],
        [reasoningDelta, textDelta('Sunny.', 1)],
      ]) {
        const chunks = await collectStream(await converseStream(wellFormed(...opening)));
        const deltas = chunks.map(
          (chunk) =>
            (chunk.choices as JsonObject[] | undefined)?.[0]?.delta as JsonObject | undefined,
        );
        const roles = deltas.filter((delta) => delta?.role !== undefined);
        assert.deepEqual(roles.length, 1, 'one role chunk');
        assert.equal(deltas[0]?.role, 'assistant', 'the role chunk comes first');
        assert.ok(deltas.slice(1).some((delta) => delta?.tool_calls ?? delta?.reasoning_content));
      }
    });

    it('refuses a toolUse delta for a content block that never started', async () => {
      const answer = await converseStream(wellFormed(toolDelta(3, '{"city":"Paris"}')));
      await assert.rejects(
        collectStream(answer),
        isError(DataPlaneErrorCode.StreamInterrupted, /content block 3/),
      );
    });

    it('refuses a toolUse start without its id or name instead of inventing "undefined"', async () => {
      for (const toolUse of [{ name: 'get_weather' }, { toolUseId: 'tooluse_1' }]) {
        const answer = await converseStream(wellFormed(toolStart(1, toolUse)));
        await assert.rejects(
          collectStream(answer),
          isError(DataPlaneErrorCode.StreamInterrupted, /toolUse/),
        );
      }
    });

    it('refuses a second start of one content block, which would give two calls one index', async () => {
      const answer = await converseStream(
        wellFormed(
          toolStart(1, WEATHER),
          toolStart(1, { toolUseId: 'tooluse_2', name: 'get_time' }),
          toolStart(2, { toolUseId: 'tooluse_3', name: 'get_date' }),
        ),
      );
      await assert.rejects(
        collectStream(answer),
        isError(DataPlaneErrorCode.StreamInterrupted, /content block 1/),
      );
    });

    it('refuses a toolUse start or delta without a whole-number contentBlockIndex', async () => {
      for (const bad of [
        eventFrame('contentBlockStart', { start: { toolUse: WEATHER } }),
        eventFrame('contentBlockStart', { contentBlockIndex: '1', start: { toolUse: WEATHER } }),
      ]) {
        const answer = await converseStream(wellFormed(bad));
        await assert.rejects(
          collectStream(answer),
          isError(DataPlaneErrorCode.StreamInterrupted, /contentBlockIndex/),
        );
      }
    });

    it('refuses a toolUse delta whose input is not a string, or a text delta not a string', async () => {
      for (const [bad, problem] of [
        [toolDelta(1, { city: 'Paris' }), /toolUse input that is not a string/],
        [
          eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 42 } }),
          /text delta that is not text/,
        ],
      ] as const) {
        const answer = await converseStream(wellFormed(toolStart(1, WEATHER), bad));
        await assert.rejects(
          collectStream(answer),
          isError(DataPlaneErrorCode.StreamInterrupted, problem),
        );
      }
    });

    it('interrupts a stream whose reasoning delta is of the wrong shape', async () => {
      for (const reasoningContent of ['Thinking.', { text: 42 }]) {
        const bad = eventFrame('contentBlockDelta', {
          contentBlockIndex: 0,
          delta: { reasoningContent },
        });
        const answer = await converseStream(wellFormed(bad));
        await assert.rejects(
          collectStream(answer),
          isError(DataPlaneErrorCode.StreamInterrupted, /reasoning/),
        );
      }
    });

    it('refuses a stream that stops without its metadata event, and estimates its usage', async () => {
      const answer = await converseStream([MESSAGE_START, textDelta('Hi.'), END_TURN]);
      await assert.rejects(collectStream(answer), isError(DataPlaneErrorCode.StreamInterrupted));
      assert.equal((await answer.usage).source, 'estimated');
    });

    it('refuses a stream that ends without messageStop even after metadata', async () => {
      const answer = await converseStream([MESSAGE_START, textDelta('Hi.'), METADATA]);
      await assert.rejects(collectStream(answer), isError(DataPlaneErrorCode.StreamInterrupted));
    });

    it('ignores event types and deltas it has no use for, and an unknown stopReason', async () => {
      const answer = await converseStream([
        MESSAGE_START,
        eventFrame('someEventAddedLater', { anything: [1, 2] }),
        eventFrame('contentBlockDelta', {
          contentBlockIndex: 0,
          delta: { citation: { title: 'A source', location: {} } },
        }),
        textDelta('Hi.', 1),
        eventFrame('contentBlockStop', { contentBlockIndex: 1 }),
        eventFrame('messageStop', { stopReason: 'a_reason_added_later' }),
        METADATA,
      ]);
      const chunks = await collectStream(answer);
      assert.equal(streamedText(chunks), 'Hi.');
      assert.equal((await answer.usage).source, 'reported');
    });

    it('settles whole, non-negative, safe counts from a metadata event with odd ones', async () => {
      const odd = eventFrame('metadata', {
        usage: {
          inputTokens: 7.5,
          outputTokens: 3,
          cacheReadInputTokens: 2 ** 52,
          cacheWriteInputTokens: 2 ** 52,
        },
      });
      const answer = await converseStream([MESSAGE_START, textDelta('Hi.'), END_TURN, odd]);
      await collectStream(answer);
      const usage = await answer.usage;
      assertWholeCounts(usage);
      assert.equal(usage.outputTokens, 3);
    });

    it('estimates usage whose metadata counts are strings instead of billing zero', async () => {
      const odd = eventFrame('metadata', { usage: { inputTokens: '12', outputTokens: '4' } });
      const answer = await converseStream([MESSAGE_START, textDelta('Hi there.'), END_TURN, odd]);
      await collectStream(answer);
      const usage = await answer.usage;
      assert.equal(usage.source, 'estimated');
      assert.ok(usage.inputTokens > 0 && usage.outputTokens > 0);
    });
  });

  describe('with a forced answer tool (response_format json_object)', () => {
    const JSON_OBJECT = { type: 'json_object' };
    const ANSWER = { toolUseId: 'tooluse_9', name: 'json_response' };
    const answerToJson = async (body: unknown): Promise<JsonAnswer> => {
      upstream.json(body);
      return (await invoke(gatewayChatRequest({ response_format: JSON_OBJECT }))) as JsonAnswer;
    };
    const jsonStreamOf = async (frames: readonly Frame[]): Promise<StreamAnswer> => {
      upstream.frames(frames);
      const request = gatewayChatRequest({ stream: true, response_format: JSON_OBJECT });
      return (await invoke(request)) as StreamAnswer;
    };
    const toolStart = (toolUse: JsonObject) =>
      eventFrame('contentBlockStart', { contentBlockIndex: 1, start: { toolUse } });
    const toolDelta = (input: string) =>
      eventFrame('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input } } });
    const toolStop = eventFrame('contentBlockStop', { contentBlockIndex: 1 });
    const TOOL_USE = eventFrame('messageStop', { stopReason: 'tool_use' });

    it('answers the tool input as content, {} when it has none, and no tool_calls', async () => {
      for (const [toolUse, content] of [
        [{ ...ANSWER, input: { ok: true } }, '{"ok":true}'],
        [ANSWER, '{}'],
      ] as const) {
        const answer = await answerToJson(answerOf([{ toolUse }], { stopReason: 'tool_use' }));
        const choice = (answer.body.choices as JsonObject[])[0];
        assert.deepEqual(choice.message, { role: 'assistant', content });
        assert.equal(choice.finish_reason, 'stop');
      }
    });

    it('refuses a call of a tool the request did not offer as a bad response', async () => {
      const toolUse = { toolUseId: 'tooluse_1', name: 'get_weather', input: {} };
      await assert.rejects(
        answerToJson(answerOf([{ toolUse }], { stopReason: 'tool_use' })),
        isError(DataPlaneErrorCode.UpstreamBadResponse, /did not offer/),
      );
    });

    it('streams the input as content, drops prose, and sends {} for a call with no input', async () => {
      const withInput = await collectStream(
        await jsonStreamOf([
          MESSAGE_START,
          textDelta('Sure:'),
          toolStart(ANSWER),
          toolDelta('{"ok":'),
          toolDelta(' true}'),
          toolStop,
          TOOL_USE,
          METADATA,
        ]),
      );
      assert.equal(streamedText(withInput), '{"ok": true}');
      assert.equal(streamedFinishReason(withInput), 'stop');
      assert.ok(withInput.every((chunk) => !JSON.stringify(chunk).includes('tool_calls')));
      const noInput = await collectStream(
        await jsonStreamOf([MESSAGE_START, toolStart(ANSWER), toolStop, TOOL_USE, METADATA]),
      );
      assert.equal(streamedText(noInput), '{}');
    });

    it('interrupts a stream that calls a tool the request did not offer', async () => {
      const answer = await jsonStreamOf(
        wellFormed(toolStart({ toolUseId: 'tooluse_1', name: 'get_weather' })),
      );
      await assert.rejects(
        collectStream(answer),
        isError(DataPlaneErrorCode.StreamInterrupted, /never offered/),
      );
    });
  });
});

describe('toConverseRequest on requests Converse would refuse', () => {
  // A conversation that called a tool, which the next request no longer offers.
  const WEATHER_HISTORY: JsonObject[] = [
    { role: 'user', content: 'Weather in Paris?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: 'tooluse_1',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
        },
      ],
    },
    { role: 'tool', tool_call_id: 'tooluse_1', content: '18C' },
  ];
  const converseOf = (body: JsonObject) => {
    const prompt = parseChatRequest(body);
    return toConverseRequest(prompt, answerTool(prompt, 'bedrock'), 'anthropic.claude-sonnet-4-6');
  };

  it("tells the history's tool calls as text when the request itself sends no tools", () => {
    const body = converseOf({
      messages: [...WEATHER_HISTORY, { role: 'user', content: 'Thanks. Summarize.' }],
    });
    // Converse answers 400 to toolUse or toolResult blocks without a toolConfig, and tools
    // declared for them could be called, which a request with none rules out (as on OpenAI).
    assert.equal(body.toolConfig, undefined);
    assert.deepEqual((body.messages as JsonObject[]).slice(1), [
      {
        role: 'assistant',
        content: [{ text: '[tool call tooluse_1: get_weather {"city":"Paris"}]' }],
      },
      {
        role: 'user',
        content: [
          { text: '[tool result tooluse_1 (get_weather): 18C]' },
          { text: 'Thanks. Summarize.' },
        ],
      },
    ]);
  });

  it("declares the history's tools beside a forced answer tool, which stays the choice", () => {
    const body = converseOf({
      messages: [...WEATHER_HISTORY, { role: 'user', content: 'As JSON, please.' }],
      response_format: { type: 'json_object' },
    });
    assert.deepEqual(body.toolConfig, {
      tools: [
        {
          toolSpec: {
            name: 'json_response',
            description: 'Give your whole answer as a JSON object through this tool.',
            inputSchema: { json: { type: 'object' } },
          },
        },
        { toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } },
      ],
      toolChoice: { tool: { name: 'json_response' } },
    });
  });

  it('sends a whitespace-only stop sequence to a family other than Claude as it came', () => {
    for (const model of ['meta.llama3-1-70b-instruct-v1:0', 'us.amazon.nova-pro-v1:0']) {
      const body = toConverseRequest(
        parseChatRequest({ messages: [{ role: 'user', content: 'Hi.' }], stop: ['\n'] }),
        undefined,
        model,
      );
      assert.deepEqual((body.inferenceConfig as JsonObject).stopSequences, ['\n'], model);
    }
  });

  it('drops whitespace-only text, which Converse refuses as blank', () => {
    const body = converseOf({
      messages: [
        { role: 'system', content: ' \n ' },
        {
          role: 'user',
          content: [
            { type: 'text', text: '  \n' },
            { type: 'text', text: 'Hi.' },
          ],
        },
        { role: 'assistant', content: '\t' },
      ],
    });
    assert.deepEqual(body.messages, [{ role: 'user', content: [{ text: 'Hi.' }] }]);
    assert.equal(body.system, undefined);
  });

  it('refuses a request with no message content left before calling Bedrock', () => {
    assert.throws(
      () =>
        converseOf({
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: ' ' },
          ],
        }),
      isError(DataPlaneErrorCode.InvalidRequest),
    );
  });
});
