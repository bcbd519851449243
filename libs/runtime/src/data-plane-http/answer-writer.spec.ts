import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { StreamAnswer } from '@aigw/contracts/data-plane';
import { openServerResponse } from '@aigw/testing';
import { writeAnswer } from './answer-writer';

function streamOf(count: number): StreamAnswer {
  async function* events() {
    for (let i = 0; i < count; i++) yield { id: `c${i}`, choices: [] };
  }
  return {
    kind: 'stream',
    status: 200,
    events: events(),
    usage: Promise.resolve({
      inputTokens: 1,
      outputTokens: count,
      cachedInputTokens: 0,
      source: 'reported',
    }),
    servedBy: { backend: 'b', provider: 'openai', model: 'm' },
  };
}

describe('writeAnswer', () => {
  it('does not wait for ever on a caller that hung up before the abort reached it', async () => {
    // The response closed first; the signal is not aborted yet. Waiting for a 'drain' (or
    // a 'close' already emitted) held the stream and the upstream call behind it for ever.
    const open = await openServerResponse();
    try {
      await open.hangUp();
      const written = writeAnswer(open.response, streamOf(3), {
        signal: new AbortController().signal,
      }).then(() => true);
      assert.equal(await Promise.race([written, sleep(2_000).then(() => false)]), true);
    } finally {
      open.close();
    }
  });
});
