// AI_GATEWAY_REUSE_BILLING bills a reused answer (a cache hit, a deduplicated follower)
// as its original call was billed: its tokens and its server tools' web searches alike,
// all of them under `full`, a share under a fraction, none under `none`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventPublisher, GatewayEvent } from '@aigw/contracts';
import type { ServedBy, TokenUsage } from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { ReusePublisher } from '../reuse-publisher';
import { reuseChatRequest } from '../testing/reuse-edge';
import { reuseRoute } from '../testing/reuse-route';
import { billedUsage, parseReuseBilling } from './reuse-billing';

/** A Claude answer that ran three web searches and one fetch. */
const SEARCHED: TokenUsage = {
  inputTokens: 1000,
  outputTokens: 200,
  cachedInputTokens: 0,
  source: 'reported',
  serverToolRequests: { web_search: 3, web_fetch: 1 },
};

describe('billedUsage: server tool runs', () => {
  it('bills all of them under full, with the tokens', () => {
    assert.deepEqual(billedUsage(parseReuseBilling('full'), SEARCHED), {
      inputTokens: 1000,
      outputTokens: 200,
      cachedInputTokens: 0,
      source: 'reported',
      serverToolRequests: { web_search: 3, web_fetch: 1 },
    });
  });

  it('bills none of them under none, nor the tokens', () => {
    assert.deepEqual(billedUsage(parseReuseBilling('none'), SEARCHED), {
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      source: 'reported',
    });
  });

  it('bills a fraction of them as of the tokens, rounded up, leaving out a tool with none', () => {
    const usage = billedUsage(parseReuseBilling('0.5'), {
      ...SEARCHED,
      serverToolRequests: { web_search: 3, web_fetch: 0 },
    });
    assert.equal(usage.inputTokens, 500);
    assert.deepEqual(usage.serverToolRequests, { web_search: 2 });
  });

  it('adds no server tool runs to an answer that had none', () => {
    const { serverToolRequests: _runs, ...plain } = SEARCHED;
    assert.equal('serverToolRequests' in billedUsage(parseReuseBilling('full'), plain), false);
  });
});

describe('billedUsage: audio', () => {
  // A gpt-audio answer: its audio in and out are billed at many times the text rates.
  const SPOKEN: TokenUsage = {
    inputTokens: 1020,
    outputTokens: 2050,
    cachedInputTokens: 0,
    audioInputTokens: 1000,
    audioOutputTokens: 2000,
    source: 'reported',
  };

  it('bills the audio a reused answer heard and spoke, as its original call was billed', () => {
    assert.deepEqual(billedUsage(parseReuseBilling('full'), SPOKEN), SPOKEN);
    const half = billedUsage(parseReuseBilling('0.5'), SPOKEN);
    assert.equal(half.audioInputTokens, 500);
    assert.equal(half.audioOutputTokens, 1000);
  });
});

describe('a reused answer’s usage event', () => {
  const config = reuseRoute(
    '  caching: {enabled: true}\n' +
      '  costControl:\n' +
      '    modelPricing:\n' +
      '      gpt-4o: {inputPer1k: 0.001, outputPer1k: 0.002, webSearchPer1k: 10}\n',
  );
  const served: ServedBy = { backend: 'b', provider: 'local', model: 'gpt-4o' };

  function reuseEvent(billing: string) {
    const events: GatewayEvent[] = [];
    const bus: EventPublisher = {
      publish: (event) => void events.push(event),
      flush: async () => {},
    };
    const publisher = new ReusePublisher(
      () => config,
      bus,
      new MetricsRegistry({ collectDefaultMetrics: false }),
      parseReuseBilling(billing),
    );
    publisher.reused(reuseChatRequest({ messages: [] }, 'r1'), served, SEARCHED);
    assert.equal(events.length, 1);
    return events[0] as GatewayEvent & {
      webSearchRequests?: number;
      webFetchRequests?: number;
      costDollars: number;
      cacheHit: boolean;
    };
  }

  it('under full carries the searches and charges them beside the tokens', () => {
    const event = reuseEvent('full');
    assert.equal(event.cacheHit, true);
    assert.equal(event.webSearchRequests, 3);
    assert.equal(event.webFetchRequests, 1);
    const tokens = (1000 / 1000) * 0.001 + (200 / 1000) * 0.002;
    const searches = (3 / 1000) * 10;
    assert.ok(
      Math.abs(event.costDollars - (tokens + searches)) < 1e-12,
      `${event.costDollars} != ${tokens + searches}`,
    );
  });

  it('under none carries no searches and costs nothing', () => {
    const event = reuseEvent('none');
    assert.equal(event.webSearchRequests, undefined);
    assert.equal(event.webFetchRequests, undefined);
    assert.equal(event.costDollars, 0);
  });
});
