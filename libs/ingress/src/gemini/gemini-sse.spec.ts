import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { RecordingResponse } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { StreamHeartbeats } from '../http/stream-heartbeats';
import { decodeReasoning } from '../responses/domain/encrypted-reasoning';
import { GeminiStreamRelay } from './gemini-sse';
import { geminiEndpointAt, isGeminiPath } from './gemini-paths';

const usage: TokenUsage = {
  inputTokens: 5,
  outputTokens: 7,
  cachedInputTokens: 0,
  source: 'reported',
};
const facts = { model: 'my-virtual', stream: true, includeThoughts: true };

function delta(value: JsonObject, finish: string | null = null): JsonObject {
  return { id: 'chatcmpl-9', choices: [{ index: 0, delta: value, finish_reason: finish }] };
}

function events(text: string): JsonObject[] {
  return text
    .split('\r\n\r\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => JSON.parse(frame.slice('data: '.length)) as JsonObject);
}

function relayOn(response: RecordingResponse): GeminiStreamRelay {
  return new GeminiStreamRelay(response as unknown as ServerResponse, facts, 'req-1').start({
    'x-request-id': 'req-1',
  });
}

function partsOf(event: JsonObject): unknown {
  return ((event.candidates as JsonObject[])[0].content as JsonObject | undefined)?.parts;
}

describe('Gemini stream relay', () => {
  it('streams each choice as the candidate of its index, every finishReason and the usage last', async () => {
    const response = new RecordingResponse();
    const relay = relayOn(response);
    const of = (index: number, value: JsonObject, finish: string | null = null) => ({
      id: 'chatcmpl-9',
      choices: [{ index, delta: value, finish_reason: finish }],
    });
    await relay.event(of(0, { role: 'assistant', content: '' }));
    await relay.event(of(0, { content: 'First' }));
    await relay.event(of(1, { role: 'assistant', content: '' }));
    await relay.event(of(1, { content: 'Second' }));
    await relay.event(
      of(1, {
        tool_calls: [
          { index: 0, id: 'call_2', type: 'function', function: { name: 'f', arguments: '{}' } },
        ],
      }),
    );
    await relay.event(of(0, { content: ' one.' }, 'stop'));
    await relay.event(of(1, {}, 'tool_calls'));
    await relay.end(Promise.resolve(usage));
    const sent = events(response.text);
    const candidates = sent.map((event) =>
      (event.candidates as JsonObject[]).map((candidate) => [
        candidate.index,
        (candidate.content as JsonObject | undefined)?.parts,
        candidate.finishReason,
      ]),
    );
    assert.deepEqual(candidates, [
      [[0, [{ text: 'First' }], undefined]],
      [[1, [{ text: 'Second' }], undefined]],
      [[0, [{ text: ' one.' }], undefined]],
      // Choice 1's call goes out whole once its choice finishes.
      [[1, [{ functionCall: { id: 'call_2', name: 'f', args: {} } }], undefined]],
      [
        [0, undefined, 'STOP'],
        [1, undefined, 'STOP'],
      ],
    ]);
    assert.ok(sent.at(-1)?.usageMetadata, 'the usage once, on the last event');
    assert.equal(sent.filter((event) => event.usageMetadata).length, 1);
  });

  it('takes several choices of one chunk into one event', async () => {
    const response = new RecordingResponse();
    const relay = relayOn(response);
    await relay.event({
      id: 'chatcmpl-9',
      choices: [
        { index: 1, delta: { content: 'B' }, finish_reason: 'length' },
        { index: 0, delta: { content: 'A' }, finish_reason: null },
      ],
    });
    await relay.event(delta({}, 'stop'));
    await relay.end(Promise.resolve(usage));
    const [both, closing] = events(response.text);
    assert.deepEqual(both.candidates, [
      { index: 1, content: { role: 'model', parts: [{ text: 'B' }] } },
      { index: 0, content: { role: 'model', parts: [{ text: 'A' }] } },
    ]);
    assert.deepEqual(
      (closing.candidates as JsonObject[]).map((c) => [c.index, c.finishReason]),
      [
        [0, 'STOP'],
        [1, 'MAX_TOKENS'],
      ],
    );
  });

  it('sends text and thoughts as they come, a function call whole, then finish and usage', async () => {
    const response = new RecordingResponse();
    const relay = relayOn(response);
    await relay.event(delta({ role: 'assistant', content: '' }));
    await relay.event(delta({ reasoning_content: 'thinking' }));
    await relay.event(delta({ content: 'Let me look.' }));
    await relay.event(
      delta({
        tool_calls: [
          {
            index: 0,
            id: 'call_1',
            type: 'function',
            function: { name: 'weather', arguments: '{"ci' },
            extra_content: { google: { thought_signature: 'sig' } },
          },
        ],
      }),
    );
    await relay.event(
      delta({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Rome"}' } }] }),
    );
    await relay.event(delta({}, 'tool_calls'));
    await relay.event({
      id: 'chatcmpl-9',
      choices: [],
      usage: { completion_tokens_details: { reasoning_tokens: 3 } },
    });
    await relay.end(Promise.resolve(usage));
    assert.equal(response.status, 200);
    assert.match(response.headers['content-type'] ?? '', /text\/event-stream/);
    const sent = events(response.text);
    assert.deepEqual(sent.map(partsOf), [
      [{ text: 'thinking', thought: true }],
      [{ text: 'Let me look.' }],
      [
        {
          functionCall: { name: 'weather', args: { city: 'Rome' }, id: 'call_1' },
          thoughtSignature: 'sig',
        },
      ],
      undefined,
    ]);
    for (const event of sent) {
      assert.equal(event.modelVersion, 'my-virtual');
      assert.equal(event.responseId, 'chatcmpl-9');
    }
    const last = sent.at(-1)!;
    assert.equal((last.candidates as JsonObject[])[0].finishReason, 'STOP');
    assert.deepEqual(last.usageMetadata, {
      promptTokenCount: 5,
      candidatesTokenCount: 4,
      totalTokenCount: 12,
      thoughtsTokenCount: 3,
    });
    assert.ok(response.writableEnded);
  });

  it('ends a stream that broke mid-way with an error event in Google shape, never a finish', async () => {
    const response = new RecordingResponse();
    const relay = relayOn(response);
    await relay.event(delta({ content: 'Hel' }));
    relay.fail(
      new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'The backend closed the stream'),
    );
    const sent = events(response.text);
    assert.deepEqual(sent.at(-1), {
      error: { code: 502, message: 'The backend closed the stream', status: 'INTERNAL' },
    });
    assert.ok(!response.text.includes('finishReason'));
    assert.ok(response.writableEnded);
  });

  it("keeps a quiet stream alive with blank lines, which Google's Python SDK skips", async (t) => {
    // google-genai (Python) reads a stream line by line: a blank line is skipped, a
    // `data: ` line is an event, and any other line is taken as JSON, so an SSE comment
    // (`: keep-alive`) failed the client's stream with UnknownApiResponseError.
    t.mock.timers.enable({ apis: ['setInterval'] });
    const heartbeats = new StreamHeartbeats(15);
    const response = new RecordingResponse();
    const relay = new GeminiStreamRelay(
      response as unknown as ServerResponse,
      facts,
      'req-1',
      heartbeats,
    ).start({});
    await relay.event(delta({ role: 'assistant', content: 'Thinking' }));
    t.mock.timers.tick(15); // the event was written since the last tick: no beat yet
    t.mock.timers.tick(15);
    t.mock.timers.tick(15);
    await relay.event(delta({ content: ' done' }, 'stop'));
    await relay.end(Promise.resolve(usage));
    const lines = response.text.split(/\r\n|\n/);
    assert.deepEqual(
      lines.filter((line) => line !== '' && !line.startsWith('data: ')),
      [],
      'every line is blank or a data line',
    );
    const beats = response.text.replace(/data: [^\r\n]*\r\n\r\n/g, '');
    assert.equal(beats, '\r\n\r\n', 'two beats, each a blank line');
    assert.deepEqual(events(response.text).slice(0, 2).map(partsOf), [
      [{ text: 'Thinking' }],
      [{ text: ' done' }],
    ]);
  });

  it('reports MAX_TOKENS for a stream cut by the length limit', async () => {
    const response = new RecordingResponse();
    const relay = relayOn(response);
    await relay.event(delta({ content: 'long' }, 'length'));
    await relay.end(Promise.resolve(usage));
    const last = events(response.text).at(-1)!;
    assert.equal((last.candidates as JsonObject[])[0].finishReason, 'MAX_TOKENS');
  });

  it("puts a stream's signed thinking blocks on its first function call", async () => {
    const response = new RecordingResponse();
    const relay = relayOn(response);
    await relay.event(delta({ reasoning_content: 'pl' }));
    await relay.event(delta({ reasoning_content: 'an' }));
    await relay.event(
      // Its signature alone, the text having come as reasoning (as Anthropic streams it).
      delta({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig-c' }] }),
    );
    await relay.event(
      delta({
        tool_calls: [{ index: 0, id: 'toolu_1', function: { name: 'f', arguments: '{}' } }],
      }),
    );
    await relay.event(delta({}, 'tool_calls'));
    await relay.end(Promise.resolve(usage));
    const call = events(response.text)
      .flatMap((event) => (partsOf(event) ?? []) as JsonObject[])
      .find((part) => part.functionCall !== undefined);
    assert.deepEqual(decodeReasoning(call?.thoughtSignature as string), [
      { type: 'thinking', thinking: 'plan', signature: 'sig-c' },
    ]);
  });

  it('writes one JSON array without alt=sse, a broken one ending with the error element', async () => {
    const whole = new RecordingResponse();
    const relay = new GeminiStreamRelay(
      whole as unknown as ServerResponse,
      facts,
      'req-1',
      undefined,
      'array',
    ).start({});
    await relay.event(delta({ content: 'Hi' }));
    await relay.event(delta({ content: ' there' }, 'stop'));
    await relay.end(Promise.resolve(usage));
    assert.match(whole.headers['content-type'] ?? '', /application\/json/);
    const events = JSON.parse(whole.text) as JsonObject[];
    assert.deepEqual(events.slice(0, 2).map(partsOf), [[{ text: 'Hi' }], [{ text: ' there' }]]);
    assert.equal((events[2].candidates as JsonObject[])[0].finishReason, 'STOP');

    const broken = new RecordingResponse();
    const failing = new GeminiStreamRelay(
      broken as unknown as ServerResponse,
      facts,
      'req-1',
      undefined,
      'array',
    ).start({});
    await failing.event(delta({ content: 'Hel' }));
    failing.fail(new DataPlaneError(DataPlaneErrorCode.UpstreamTimeout, 'too slow'));
    assert.deepEqual((JSON.parse(broken.text) as JsonObject[]).at(-1), {
      error: { code: 504, message: 'too slow', status: 'DEADLINE_EXCEEDED' },
    });
  });

  it("knows the Gemini API's paths", () => {
    assert.ok(isGeminiPath('/v1beta/models/my-virtual:generateContent'));
    assert.ok(isGeminiPath('/v1beta/models/org/model:streamGenerateContent?alt=sse&key=k'));
    assert.ok(isGeminiPath('/v1/models/m:countTokens'));
    assert.ok(!isGeminiPath('/v1/models/m'));
    assert.ok(!isGeminiPath('/v1beta/models/m:predict'));
    // A tuned model's calls, at its own collection (Google's SDKs for `tunedModels/x`).
    assert.ok(isGeminiPath('/v1beta/tunedModels/my-tuned:generateContent'));
    assert.equal(
      geminiEndpointAt('/v1/tunedModels/t:streamGenerateContent?alt=sse'),
      'gemini.streamGenerateContent',
    );
    assert.ok(!isGeminiPath('/v1beta/tunedModels/t'));
    assert.equal(geminiEndpointAt('/v1beta/models/m:embedContent'), 'gemini.embedContent');
    assert.equal(
      geminiEndpointAt('/v1/models/m:batchEmbedContents?key=k'),
      'gemini.batchEmbedContents',
    );
    assert.equal(geminiEndpointAt('/v1beta/models/m:generateContent'), 'gemini.generateContent');
    assert.equal(
      geminiEndpointAt('/models/m:streamGenerateContent?alt=sse'),
      'gemini.streamGenerateContent',
    );
  });
});
