import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { openServerResponse, RecordingResponse } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { StreamHeartbeats } from '../http/stream-heartbeats';
import { responsesFacts } from './domain/responses-request';
import type { ResponseContext } from './domain/responses-response';
import { responseContext, ResponsesStreamRelay } from './responses-sse';

const usage: TokenUsage = {
  inputTokens: 5,
  outputTokens: 2,
  cachedInputTokens: 0,
  source: 'reported',
};

const context: ResponseContext = {
  facts: responsesFacts({ model: 'gpt-virtual', input: 'x' }),
  model: 'gpt-virtual',
  requestId: 'req-1',
  createdAt: 1_750_000_000,
};

function chunk(content: string): JsonObject {
  return { id: 'c1', choices: [{ index: 0, delta: { content }, finish_reason: null }] };
}

function eventNames(text: string): string[] {
  return [...text.matchAll(/^event: ([\w.]+)$/gm)].map((match) => match[1] ?? '');
}

function relayOn(response: RecordingResponse, heartbeats?: StreamHeartbeats): ResponsesStreamRelay {
  return new ResponsesStreamRelay(response as unknown as ServerResponse, context, heartbeats).start(
    { 'x-request-id': 'req-1' },
  );
}

describe('Responses stream relay', () => {
  it('frames each event with its name, opens before the first chunk, and ends with response.completed', async () => {
    const response = new RecordingResponse();
    const relay = relayOn(response);
    // The opening events leave at the end of the turn, before any chunk came.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(eventNames(response.text), ['response.created', 'response.in_progress']);
    await relay.event(chunk('Hi'));
    await relay.end(Promise.resolve(usage));
    assert.equal(response.status, 200);
    assert.match(response.headers['content-type'] ?? '', /text\/event-stream/);
    assert.equal(response.headers['x-request-id'], 'req-1');
    assert.deepEqual(eventNames(response.text), [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const frames = response.text.trim().split('\n\n');
    frames.forEach((text, index) => {
      const [eventLine, dataLine] = text.split('\n');
      const data = JSON.parse((dataLine ?? '').slice('data: '.length)) as JsonObject;
      assert.equal(eventLine, `event: ${String(data.type)}`);
      assert.equal(data.sequence_number, index);
    });
    assert.ok(response.writableEnded);
    assert.doesNotMatch(response.text, /\[DONE\]/, 'the Responses stream has no sentinel');
  });

  it('ends a stream that broke mid-way with error and response.failed, never response.completed', async () => {
    const response = new RecordingResponse();
    const relay = relayOn(response);
    await relay.event(chunk('Hel'));
    relay.fail(
      new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'The backend closed the stream'),
    );
    assert.ok(response.writableEnded);
    assert.deepEqual(eventNames(response.text).slice(-2), ['error', 'response.failed']);
    assert.doesNotMatch(response.text, /response\.completed/);
  });

  it('fails instead of finishing when the usage never settles cleanly', async () => {
    const response = new RecordingResponse();
    const relay = relayOn(response);
    await relay.event(chunk('Hi'));
    await assert.rejects(
      relay.end(Promise.reject(new DataPlaneError(DataPlaneErrorCode.UpstreamTimeout, 'late'))),
    );
    assert.doesNotMatch(response.text, /response\.completed/);
  });

  it('keeps a quiet stream alive with an SSE comment', async () => {
    const response = new RecordingResponse();
    const heartbeats = new StreamHeartbeats(25);
    const relay = relayOn(response, heartbeats);
    await relay.event(chunk('Hi'));
    // Waits for the beat rather than a fixed 120 ms: a loaded CI box can hold timers back
    // that long (it did), and the point is that one comes, not how soon.
    const keepAlive = '\n\n: keep-alive\n\n';
    for (let waited = 0; !response.text.includes(keepAlive) && waited < 5_000; waited += 25) {
      await sleep(25);
    }
    assert.ok(response.text.includes(keepAlive), response.text);
    await relay.end(Promise.resolve(usage));
    response.emit('close');
    assert.equal(heartbeats.size, 0);
    assert.deepEqual(eventNames(response.text).slice(-1), ['response.completed']);
  });

  it('answers with the model the client asked for and the settings it sent', () => {
    const request = { requestId: 'req-9', requestedModel: 'my-alias' } as GatewayRequest;
    const built = responseContext(request, {
      model: 'my-alias',
      input: 'x',
      instructions: 'Be brief.',
    });
    assert.equal(built.model, 'my-alias');
    assert.equal(built.requestId, 'req-9');
    assert.equal(built.facts.instructions, 'Be brief.');
    assert.ok(Math.abs(built.createdAt - Date.now() / 1000) < 5);
  });

  it('has reasoning items carry their text when DeepSeek answered, and only then', () => {
    const request = { requestId: 'req-9', requestedModel: 'my-alias' } as GatewayRequest;
    const body = { model: 'my-alias', input: 'x' };
    const servedBy = (provider: string) => ({ backend: 'b', provider, model: 'm' });
    assert.equal(
      responseContext(request, body, false, servedBy('deepseek')).reasoningTextBack,
      true,
    );
    for (const other of ['openai', 'vllm', 'anthropic', 'gemini']) {
      assert.equal(
        responseContext(request, body, false, servedBy(other)).reasoningTextBack,
        undefined,
      );
    }
    assert.equal(responseContext(request, body).reasoningTextBack, undefined);
  });
});

describe('Responses stream relay, on a client that hung up', () => {
  it('does not wait for ever on a write after the response closed', async () => {
    const open = await openServerResponse();
    try {
      const relay = new ResponsesStreamRelay(open.response, context).start({});
      await open.hangUp();
      const wrote = relay.event(chunk('late')).then(() => true);
      assert.equal(await Promise.race([wrote, sleep(2_000).then(() => false)]), true);
    } finally {
      open.close();
    }
  });
});
