import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenUsageRecorded, type EventPublisher, type GatewayEvent } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode, type ProviderCall } from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import {
  FakeBedrockUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { BedrockAdapter } from '../bedrock/bedrock.adapter';
import { ProviderRegistry } from '../core/provider-registry';
import { TEST_AWS_CREDENTIALS, useEnvAwsCredentials } from '../testing/env-aws-credentials';
import { MeteredProviderPort } from './metered-provider';

// An embeddings request served in several upstream calls (Titan embeds one text a call)
// that fails part way: the calls that answered were billed by the provider, so their usage
// is recorded though the request failed, spent without its hold (the attempt that serves
// the request, after failover, settles that).

const TITAN_V2 = 'amazon.titan-embed-text-v2:0';

describe('MeteredProviderPort, an embeddings request whose later call fails', () => {
  const upstream = new FakeBedrockUpstream(TEST_AWS_CREDENTIALS);
  useEnvAwsCredentials(TEST_AWS_CREDENTIALS);
  const events: GatewayEvent[] = [];
  const publisher: EventPublisher = {
    publish: (event) => events.push(event),
    flush: async () => {},
  };
  let port: MeteredProviderPort;

  const call = (input: string[]): ProviderCall => ({
    request: gatewayChatRequest(
      { model: 'embedder', messages: undefined, input },
      { operation: 'embeddings', requestedModel: 'embedder', reservationId: 'hold-1' },
    ),
    target: upstreamTarget({ provider: 'bedrock', model: TITAN_V2, baseUrl: upstream.baseUrl }),
    signal: new AbortController().signal,
  });

  before(async () => {
    await upstream.start();
    port = new MeteredProviderPort(
      new ProviderRegistry([new BedrockAdapter()]),
      publisher,
      new MetricsRegistry({ collectDefaultMetrics: false }),
      (_call, _servedBy, usage) => ({ weightedTokens: usage.inputTokens, dollars: 0 }),
    );
  });
  after(() => upstream.stop());
  beforeEach(() => {
    upstream.reset();
    events.length = 0;
  });

  /** The usage events published, once the port's asynchronous records have run. */
  const usageEvents = async (): Promise<TokenUsageRecorded[]> => {
    await new Promise((resolve) => setImmediate(resolve));
    return events.filter(
      (event): event is TokenUsageRecorded => event instanceof TokenUsageRecorded,
    );
  };

  it('records the answered calls, without the hold, and fails with the throttled one', async () => {
    // Three one-word texts (Bedrock counts one token each): two answered, one throttled.
    upstream
      .next({ kind: 'ok' })
      .next({
        kind: 'status',
        status: 429,
        body: { message: 'Too many requests' },
        headers: { 'x-amzn-errortype': 'ThrottlingException' },
      })
      .next({ kind: 'ok' });
    await assert.rejects(
      port.invoke(call(['a', 'b', 'c'])),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.UpstreamRateLimited,
    );
    assert.equal(upstream.calls.length, 3);
    const recorded = await usageEvents();
    assert.equal(recorded.length, 1, 'the two answered calls are one usage record');
    const [usage] = recorded;
    assert.equal(usage.inputTokens, 2);
    assert.equal(usage.outputTokens, 0);
    assert.equal(usage.usageSource, 'reported');
    assert.equal(usage.operation, 'embeddings');
    assert.equal(usage.backend, call([]).target.backendName);
    assert.equal(usage.modelServed, TITAN_V2);
    assert.equal(usage.weightedTokenCost, 2);
    assert.equal(usage.reservationId ?? undefined, undefined, 'spent, the hold kept');
  });

  it('records nothing when no call answered', async () => {
    upstream.next({
      kind: 'status',
      status: 429,
      body: { message: 'Too many requests' },
      headers: { 'x-amzn-errortype': 'ThrottlingException' },
    });
    await assert.rejects(port.invoke(call(['a'])));
    assert.deepEqual(await usageEvents(), []);
  });
});
