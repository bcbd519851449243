import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openServerResponse, RecordingResponse } from '@aigw/testing';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { StreamHeartbeats } from '../http/stream-heartbeats';
import { MessagesStreamRelay } from './messages-sse';
import { isMessagesPath } from './messages-errors';

const usage: TokenUsage = {
  inputTokens: 5,
  outputTokens: 2,
  cachedInputTokens: 0,
  source: 'reported',
};
const facts = { model: 'claude-virtual', stream: true, stopSequences: [] };

function chunk(content: string): JsonObject {
  return { id: 'c1', choices: [{ index: 0, delta: { content }, finish_reason: null }] };
}

function eventNames(text: string): string[] {
  return [...text.matchAll(/^event: (\w+)$/gm)].map((match) => match[1] ?? '');
}

function relayOn(response: RecordingResponse): MessagesStreamRelay {
  return new MessagesStreamRelay(response as unknown as ServerResponse, facts, 'req-1').start({
    'x-request-id': 'req-1',
  });
}

describe('Messages stream relay', () => {
  it('frames each event with its name and ends with message_stop', async () => {
    const response = new RecordingResponse();
    const relay = relayOn(response);
    await relay.event(chunk('Hi'));
    await relay.end(Promise.resolve(usage));
    assert.equal(response.status, 200);
    assert.match(response.headers['content-type'] ?? '', /text\/event-stream/);
    assert.equal(response.headers['x-request-id'], 'req-1');
    assert.deepEqual(eventNames(response.text), [
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const frame of response.text.trim().split('\n\n')) {
      const [eventLine, dataLine] = frame.split('\n');
      const data = JSON.parse((dataLine ?? '').slice('data: '.length)) as { type: string };
      assert.equal(eventLine, `event: ${data.type}`);
    }
  });

  it('ends a stream that broke mid-way with an error event, never with message_stop', async () => {
    const response = new RecordingResponse();
    const relay = relayOn(response);
    await relay.event(chunk('Hel'));
    relay.fail(
      new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'The backend closed the stream'),
    );
    const names = eventNames(response.text);
    assert.deepEqual(names, [
      'message_start',
      'content_block_start',
      'content_block_delta',
      'error',
    ]);
    assert.ok(response.writableEnded);
    const last = response.text.trim().split('\n\n').at(-1) ?? '';
    assert.deepEqual(JSON.parse(last.split('\n')[1]?.slice('data: '.length) ?? ''), {
      type: 'error',
      error: { type: 'api_error', message: 'The backend closed the stream' },
    });
  });

  it('fails instead of finishing when the usage never settles cleanly', async () => {
    const response = new RecordingResponse();
    const relay = relayOn(response);
    await relay.event(chunk('Hi'));
    await assert.rejects(
      relay.end(Promise.reject(new DataPlaneError(DataPlaneErrorCode.UpstreamTimeout, 'late'))),
    );
    assert.doesNotMatch(response.text, /message_stop/);
  });

  it("keeps a quiet stream alive with Anthropic's own ping event", async () => {
    const response = new RecordingResponse();
    const heartbeats = new StreamHeartbeats(25);
    const relay = new MessagesStreamRelay(
      response as unknown as ServerResponse,
      facts,
      'req-1',
      heartbeats,
    ).start({});
    await relay.event(chunk('Hi'));
    // Waits for the ping rather than a fixed 120 ms: a loaded CI box can hold timers back
    // that long, and the point is that one comes, not how soon.
    for (
      let waited = 0;
      !eventNames(response.text).includes('ping') && waited < 5_000;
      waited += 25
    ) {
      await sleep(25);
    }
    assert.ok(eventNames(response.text).includes('ping'), response.text);
    assert.ok(response.text.includes('event: ping\ndata: {"type":"ping"}\n\n'), response.text);
    await relay.end(Promise.resolve(usage));
    response.emit('close');
    assert.equal(heartbeats.size, 0);
    assert.deepEqual(eventNames(response.text).slice(-1), ['message_stop']);
  });

  it('knows the Messages API paths', () => {
    assert.ok(isMessagesPath('/v1/messages'));
    assert.ok(isMessagesPath('/v1/messages?beta=true'));
    assert.ok(isMessagesPath('/v1/messages/count_tokens'));
    assert.ok(!isMessagesPath('/v1/messagesx'));
    assert.ok(!isMessagesPath('/v1/chat/completions'));
    // Served without the prefix too.
    assert.ok(isMessagesPath('/messages'));
    assert.ok(isMessagesPath('/messages?beta=true'));
    assert.ok(!isMessagesPath('/messagesx'));
    assert.ok(!isMessagesPath('/v2/messages'));
  });
});

describe('Messages stream relay, on a client that hung up', () => {
  it('does not wait for ever on a write after the response closed', async () => {
    const open = await openServerResponse();
    try {
      const relay = new MessagesStreamRelay(open.response, facts, 'req-1').start({});
      await open.hangUp();
      const wrote = relay.event(chunk('late')).then(() => true);
      assert.equal(await Promise.race([wrote, sleep(2_000).then(() => false)]), true);
    } finally {
      open.close();
    }
  });
});
