import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode, type GatewayAnswer } from '@aigw/contracts/data-plane';
import { answerFromFlight, errorOf, Flight, flightError, pumpIntoFlight } from './flight';

/** A provider's refusal with every field an error can carry. */
function refusal(): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.UpstreamRejected, 'context too long', {
    upstreamStatus: 400,
    retryAfterMs: 1500,
    param: 'messages',
    upstreamCode: 'context_length_exceeded',
    headers: { 'x-ratelimit-remaining-requests': '7' },
  });
}

/** What the client sees of an error, and what the edge reads off it. */
function seen(error: DataPlaneError) {
  return {
    body: error.toOpenAiBody(),
    httpStatus: error.httpStatus,
    code: error.code,
    upstreamStatus: error.upstreamStatus,
    retryAfterMs: error.retryAfterMs,
    upstreamCode: error.upstreamCode,
    headers: error.headers,
  };
}

async function failedCall(error: Error): Promise<Flight> {
  const flight = new Flight();
  await pumpIntoFlight(Promise.reject(error), flight);
  return flight;
}

describe('a shared call that failed', () => {
  it('gives every caller in this process the very error the call raised', async () => {
    const original = refusal();
    const flight = await failedCall(original);
    await assert.rejects(answerFromFlight(flight), (error) => error === original);
    await assert.rejects(answerFromFlight(flight), (error) => error === original);
    await assert.rejects(flight.usage, (error) => error === original);
  });

  it('gives a follower on another replica (the event through JSON) every field of it', async () => {
    const original = refusal();
    const [event] = (await failedCall(original)).snapshot();
    const remote = new Flight();
    remote.append(JSON.parse(JSON.stringify(event)));
    await assert.rejects(answerFromFlight(remote), (error) => {
      assert.ok(error instanceof DataPlaneError);
      assert.notEqual(error, original, 'rebuilt, not shared across processes');
      assert.deepEqual(seen(error), seen(original));
      assert.deepEqual(error.toOpenAiBody().error, {
        message: 'context too long',
        type: 'invalid_request_error',
        code: 'context_length_exceeded',
        param: 'messages',
      });
      return true;
    });
  });

  it('keeps a rate limit as one (status 429, type, code, retry-after, headers)', () => {
    const limited = new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, 'slow down', {
      upstreamStatus: 429,
      retryAfterMs: 2000,
      headers: { 'retry-after': '2', 'x-ratelimit-reset-requests': '2s' },
    });
    const rebuilt = errorOf(JSON.parse(JSON.stringify(flightError(limited))));
    assert.deepEqual(seen(rebuilt), seen(limited));
    assert.equal(rebuilt.httpStatus, 429);
    assert.equal(rebuilt.toOpenAiBody().error.type, 'rate_limit_error');
  });

  it('is an internal error, with nothing of its text, when it was not the gateway’s own', async () => {
    const flight = await failedCall(new Error('secret sk-live-123 in a stack'));
    await assert.rejects(answerFromFlight(flight), (error) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.code, DataPlaneErrorCode.Internal);
      assert.equal(error.message, 'the upstream call failed');
      return true;
    });
  });

  it('still reads an error event as an older replica wrote it', () => {
    const error = errorOf({ t: 'error', code: 'UPSTREAM.TIMEOUT', message: 'late' } as never);
    assert.equal(error.code, DataPlaneErrorCode.UpstreamTimeout);
    assert.equal(error.message, 'late');
    const unknown = errorOf({ t: 'error', code: 'SOMETHING.NEW', message: 'x' } as never);
    assert.equal(unknown.code, DataPlaneErrorCode.UpstreamError);
  });

  it('fails a stream mid-way with the error, all of it, to a remote follower', async () => {
    const original = refusal();
    const flight = new Flight();
    async function* chunks() {
      yield { id: 'c1' };
      throw original;
    }
    const usage = Promise.reject(original);
    const answer: GatewayAnswer = {
      kind: 'stream',
      status: 200,
      events: chunks(),
      usage,
      servedBy: { backend: 'b', provider: 'openai', model: 'm' },
    };
    await pumpIntoFlight(Promise.resolve(answer), flight);
    const remote = new Flight();
    for (const event of flight.snapshot()) remote.append(JSON.parse(JSON.stringify(event)));
    const streamed = await answerFromFlight(remote);
    assert.equal(streamed.kind, 'stream');
    if (streamed.kind !== 'stream') return;
    await assert.rejects(
      (async () => {
        for await (const chunk of streamed.events) void chunk;
      })(),
      (error) => {
        assert.ok(error instanceof DataPlaneError);
        assert.deepEqual(seen(error), seen(original));
        return true;
      },
    );
  });
});
