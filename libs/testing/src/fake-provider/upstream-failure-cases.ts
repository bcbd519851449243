import { it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type StreamAnswer,
} from '@aigw/contracts/data-plane';
import type { FakeProviderServer } from './fake-provider-server';
import { collectStream } from './provider-test-kit';

function hasCode(code: DataPlaneErrorCode, extra: (error: DataPlaneError) => boolean = () => true) {
  return (error: unknown) => error instanceof DataPlaneError && error.code === code && extra(error);
}

/**
 * The failure cases every adapter must map the same way, registered as tests in the
 * caller's describe block: HTTP statuses, Retry-After, timeouts, garbage and a stream
 * cut or failed midway.
 */
export function itMapsUpstreamFailures(options: {
  upstream: () => FakeProviderServer;
  invoke: (request: GatewayRequest) => Promise<GatewayAnswer>;
  plain: () => GatewayRequest;
  streaming: () => GatewayRequest;
  /** Whether the provider has an error event inside its stream format. */
  streamErrorEvent?: boolean;
  /**
   * How many of the fake's stream events carry the first content (2 unless told): an
   * error event after them is mid-answer, one before them still fails over.
   */
  eventsToFirstContent?: number;
}): void {
  for (const [status, code] of [
    [429, DataPlaneErrorCode.UpstreamRateLimited],
    [500, DataPlaneErrorCode.UpstreamError],
    [503, DataPlaneErrorCode.UpstreamError],
    [504, DataPlaneErrorCode.UpstreamTimeout],
    [400, DataPlaneErrorCode.UpstreamRejected],
    [401, DataPlaneErrorCode.UpstreamError],
    [403, DataPlaneErrorCode.UpstreamError],
  ] as const) {
    it(`maps an upstream ${status} to ${code}`, async () => {
      options.upstream().next({ kind: 'status', status });
      await assert.rejects(
        options.invoke(options.plain()),
        hasCode(code, (error) => error.upstreamStatus === status),
      );
    });
  }

  it('reads Retry-After on a 429', async () => {
    options.upstream().next({ kind: 'status', status: 429, headers: { 'retry-after': '7' } });
    await assert.rejects(
      options.invoke(options.plain()),
      hasCode(DataPlaneErrorCode.UpstreamRateLimited, (error) => error.retryAfterMs === 7000),
    );
  });

  it('times out a backend that does not answer', async () => {
    options.upstream().next({ kind: 'hang' });
    await assert.rejects(
      options.invoke(options.plain()),
      hasCode(DataPlaneErrorCode.UpstreamTimeout),
    );
  });

  it('reports garbage as a bad response', async () => {
    options.upstream().next({ kind: 'garbage' });
    await assert.rejects(
      options.invoke(options.plain()),
      hasCode(DataPlaneErrorCode.UpstreamBadResponse),
    );
  });

  it('turns a stream cut midway into StreamInterrupted and still settles usage', async () => {
    options.upstream().next({ kind: 'break-stream', afterChunks: 2 });
    const answer = (await options.invoke(options.streaming())) as StreamAnswer;
    assert.equal(answer.kind, 'stream');
    await assert.rejects(collectStream(answer), hasCode(DataPlaneErrorCode.StreamInterrupted));
    const usage = await answer.usage;
    assert.equal(usage.source, 'estimated');
    assert.ok(usage.inputTokens > 0);
  });

  if (options.streamErrorEvent !== false) {
    it("turns the provider's error event mid-stream into StreamInterrupted", async () => {
      const afterChunks = options.eventsToFirstContent ?? 2;
      options.upstream().next({ kind: 'stream-error', afterChunks });
      const answer = (await options.invoke(options.streaming())) as StreamAnswer;
      await assert.rejects(collectStream(answer), hasCode(DataPlaneErrorCode.StreamInterrupted));
      await answer.usage;
    });
  }
}
