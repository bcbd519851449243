import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { collectStream, gatewayChatRequest, upstreamTarget } from '@aigw/testing/fake-provider';
import { translatedStreamAnswer, type StreamTranslation } from './translated-stream';
import { streamInterrupted } from './upstream-http';

/** A translation that relays text events and throws what `fail` gives on the rest. */
function translationThrowing(fail: () => Error): StreamTranslation<string> {
  return {
    finished: false,
    translate: (event) => {
      if (event.startsWith('text:')) return [{ choices: [{ delta: { content: event.slice(5) } }] }];
      throw fail();
    },
    reportedUsage: (): TokenUsage | undefined => undefined,
    usageChunk: (): JsonObject => ({}),
  };
}

async function* events(...items: string[]): AsyncGenerator<string> {
  yield* items;
}

function streamOf(translation: StreamTranslation<string>, ...items: string[]) {
  return translatedStreamAnswer(
    {
      request: gatewayChatRequest({ stream: true }),
      target: upstreamTarget({ provider: 'test', model: 'm' }),
      signal: new AbortController().signal,
    },
    events(...items),
    translation,
  );
}

describe('translatedStreamAnswer', () => {
  it('ends the stream as StreamInterrupted naming an untranslatable event when translate throws a TypeError', async () => {
    const typeError = new TypeError("Cannot read properties of undefined (reading 'text')");
    const answer = streamOf(
      translationThrowing(() => typeError),
      'text:Hel',
      'odd',
    );
    await assert.rejects(collectStream(answer), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError, `expected a DataPlaneError, got ${String(error)}`);
      assert.equal(error.code, DataPlaneErrorCode.StreamInterrupted);
      assert.match(error.message, /sent a stream event the gateway could not translate/);
      assert.doesNotMatch(error.message, /broke off/);
      assert.equal(error.cause, typeError);
      return true;
    });
    assert.equal((await answer.usage).source, 'estimated');
  });

  it("passes on the translation's own DataPlaneError unchanged", async () => {
    const refusal = streamInterrupted('fake-test', 'reported an error mid-stream');
    const answer = streamOf(
      translationThrowing(() => refusal),
      'error',
    );
    await assert.rejects(collectStream(answer), (error: unknown) => error === refusal);
  });
});
