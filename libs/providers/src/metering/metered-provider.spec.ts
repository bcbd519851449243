import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventPublisher, GatewayEvent } from '@aigw/contracts';
import {
  BackendSilence,
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type ProviderCall,
  type StreamCommit,
} from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { metricSum } from '@aigw/testing';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { MeteredProviderPort } from './metered-provider';

const request = gatewayChatRequest();

function callTo(backendName: string, signal = new AbortController().signal): ProviderCall {
  return {
    request,
    signal,
    target: {
      backendName,
      provider: 'openai',
      model: 'gpt-4',
      requestTimeoutMs: 1_000,
      firstByteTimeoutMs: 1_000,
    },
  };
}

const answer: GatewayAnswer = {
  kind: 'json',
  status: 200,
  body: { choices: [] },
  usage: { inputTokens: 3, outputTokens: 2, cachedInputTokens: 0, source: 'reported' },
  servedBy: { backend: 'east', provider: 'openai', model: 'gpt-4' },
};

describe('MeteredProviderPort', () => {
  it('counts every call to a backend by how it began', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const events: GatewayEvent[] = [];
    const publisher: EventPublisher = {
      publish: (event) => events.push(event),
      flush: async () => {},
    };
    const outcomes: Record<string, () => Promise<GatewayAnswer>> = {
      east: async () => answer,
      limited: () =>
        Promise.reject(new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, '429')),
      slow: () => Promise.reject(new DataPlaneError(DataPlaneErrorCode.UpstreamTimeout, 'slow')),
      refusing: () =>
        Promise.reject(new DataPlaneError(DataPlaneErrorCode.UpstreamRejected, '400')),
      broken: () => Promise.reject(new TypeError('bug')),
    };
    const port = new MeteredProviderPort(
      { invoke: (call) => outcomes[call.target.backendName]() },
      publisher,
      metrics,
      () => ({ weightedTokens: 5, dollars: 0 }),
    );
    await port.invoke(callTo('east'));
    for (const backend of ['limited', 'slow', 'refusing', 'broken']) {
      await assert.rejects(port.invoke(callTo(backend)));
    }
    const gone = new AbortController();
    gone.abort();
    outcomes.west = () => Promise.reject(new Error('aborted'));
    await assert.rejects(port.invoke(callTo('west', gone.signal)));
    // The router cancels a call whose backend stayed silent past its first-byte timeout.
    const silent = new AbortController();
    silent.abort(new BackendSilence('backend "mute" sent no stream data within 300 ms'));
    outcomes.mute = () => Promise.reject(silent.signal.reason as Error);
    await assert.rejects(port.invoke(callTo('mute', silent.signal)));

    const text = await metrics.metrics();
    const calls = (backend: string, result: string) =>
      metricSum(text, 'ai_gateway_backend_requests_total', { backend, result });
    assert.equal(calls('east', 'ok'), 1);
    assert.equal(calls('limited', 'rate_limited'), 1);
    assert.equal(calls('slow', 'timeout'), 1);
    assert.equal(calls('refusing', 'rejected'), 1);
    assert.equal(calls('broken', 'error'), 1);
    assert.equal(calls('west', 'cancelled'), 1);
    assert.equal(calls('mute', 'timeout'), 1);
    assert.equal(metricSum(text, 'ai_gateway_backend_requests_total'), 7);
    // The answered call is metered as before: one usage event.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      events.map((event) => event.type),
      ['usage.recorded'],
    );
  });

  it('counts each setting an answer reports left out, by provider, setting and reason', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const dropped: GatewayAnswer = {
      ...answer,
      servedBy: {
        ...answer.servedBy,
        droppedSettings: [
          { setting: 'top_k', reason: 'unsupported' },
          { setting: 'temperature', reason: 'model' },
        ],
      },
    };
    const port = new MeteredProviderPort(
      { invoke: async () => dropped },
      { publish: () => undefined, flush: async () => {} },
      metrics,
      () => ({ weightedTokens: 0, dollars: 0 }),
    );
    await port.invoke(callTo('east'));
    await port.invoke(callTo('east'));
    const text = await metrics.metrics();
    const count = (setting: string, reason: string) =>
      metricSum(text, 'ai_gateway_request_settings_dropped_total', {
        provider: 'openai',
        setting,
        reason,
      });
    assert.equal(count('top_k', 'unsupported'), 2);
    assert.equal(count('temperature', 'model'), 2);
    assert.equal(metricSum(text, 'ai_gateway_request_settings_dropped_total'), 4);
    // An answer that names no dropped settings (most of them) counts none.
    const plain = new MetricsRegistry({ collectDefaultMetrics: false });
    await new MeteredProviderPort(
      { invoke: async () => answer },
      { publish: () => undefined, flush: async () => {} },
      plain,
      () => ({ weightedTokens: 0, dollars: 0 }),
    ).invoke(callTo('east'));
    assert.equal(answer.servedBy.droppedSettings, undefined);
    assert.equal(metricSum(await plain.metrics(), 'ai_gateway_request_settings_dropped_total'), 0);
  });

  it('counts the tokens read from and written to the prompt cache on their own series', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const events: GatewayEvent[] = [];
    const publisher: EventPublisher = {
      publish: (event) => events.push(event),
      flush: async () => {},
    };
    const cached: GatewayAnswer = {
      ...answer,
      usage: {
        inputTokens: 1_325,
        outputTokens: 9,
        cachedInputTokens: 100,
        cacheWriteInputTokens: 1_200,
        cacheWrite1hInputTokens: 500,
        source: 'reported',
      },
    };
    const port = new MeteredProviderPort(
      { invoke: async () => cached },
      publisher,
      metrics,
      () => ({
        weightedTokens: 1_334,
        dollars: 0,
      }),
    );
    await port.invoke(callTo('east'));
    await new Promise((resolve) => setImmediate(resolve));
    const text = await metrics.metrics();
    const tokens = (type: string) => metricSum(text, 'ai_gateway_tokens_total', { type });
    assert.equal(tokens('input'), 1_325);
    assert.equal(tokens('cached'), 100);
    assert.equal(tokens('cache_write'), 1_200);
    assert.equal(tokens('cache_write_1h'), 500, 'a part of cache_write, counted on its own too');
    const [event] = events;
    assert.equal(event.type === 'usage.recorded' && event.cacheWriteInputTokens, 1_200);
  });

  it("settles the hold with a stream's usage only if its caller kept the stream", async () => {
    const events: GatewayEvent[] = [];
    const publisher: EventPublisher = {
      publish: (event) => events.push(event),
      flush: async () => {},
    };
    const stream: GatewayAnswer = {
      kind: 'stream',
      status: 200,
      events: (async function* () {})(),
      usage: Promise.resolve(answer.usage),
      servedBy: answer.servedBy,
    };
    const port = new MeteredProviderPort(
      { invoke: async () => stream },
      publisher,
      new MetricsRegistry({ collectDefaultMetrics: false }),
      () => ({ weightedTokens: 5, dollars: 0 }),
    );
    /** A commit the test decides by hand, after the usage is known. */
    const pending = () => {
      let waiting: ((kept: boolean) => void) | undefined;
      return {
        decided: (then: (kept: boolean) => void) => void (waiting = then),
        decide: (kept: boolean) => waiting?.(kept),
      };
    };
    const held = { ...request, stream: true, reservationId: 'hold-1' };
    const asked = (streamCommit?: StreamCommit): ProviderCall => ({
      ...callTo('east'),
      request: held,
      streamCommit,
    });
    const givenUp = pending();
    const kept = pending();
    await port.invoke(asked(givenUp));
    await port.invoke(asked(kept));
    await new Promise((resolve) => setImmediate(resolve));
    // Its usage known, a stream's record waits for its caller's decision.
    assert.equal(events.length, 0);
    givenUp.decide(false);
    kept.decide(true);
    // A caller that never gives a stream up passes no commit.
    await port.invoke(asked());
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      events.map((event) => event.type === 'usage.recorded' && event.reservationId),
      [undefined, 'hold-1', 'hold-1'],
    );
  });

  it('leaves the time per output token to the edge: a call cannot tell the first token apart', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const stream: GatewayAnswer = {
      kind: 'stream',
      status: 200,
      events: (async function* () {})(),
      usage: Promise.resolve({ ...answer.usage, outputTokens: 10 }),
      servedBy: answer.servedBy,
    };
    const port = new MeteredProviderPort(
      { invoke: async () => stream },
      { publish: () => undefined, flush: async () => {} },
      metrics,
      () => ({ weightedTokens: 0, dollars: 0 }),
    );
    await port.invoke({ ...callTo('east'), request: { ...request, stream: true } });
    await new Promise((resolve) => setImmediate(resolve));
    const text = await metrics.metrics();
    // Its whole duration over its tokens would count the wait for the first as tokens' time.
    assert.equal(metricSum(text, 'gen_ai_server_request_duration_count', {}), 1);
    assert.equal(metricSum(text, 'gen_ai_server_time_per_output_token_count', {}), 0);
  });

  it("counts an edit's image input tokens on their own series and in the usage event", async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const events: GatewayEvent[] = [];
    const publisher: EventPublisher = {
      publish: (event) => events.push(event),
      flush: async () => {},
    };
    const edited: GatewayAnswer = {
      ...answer,
      usage: {
        inputTokens: 408,
        outputTokens: 1056,
        cachedInputTokens: 0,
        imageInputTokens: 388,
        source: 'reported',
      },
    };
    const port = new MeteredProviderPort(
      { invoke: async () => edited },
      publisher,
      metrics,
      () => ({
        weightedTokens: 1_464,
        dollars: 0,
      }),
    );
    await port.invoke(callTo('east'));
    await new Promise((resolve) => setImmediate(resolve));
    const text = await metrics.metrics();
    const tokens = (type: string) => metricSum(text, 'ai_gateway_tokens_total', { type });
    assert.equal(tokens('input'), 408);
    assert.equal(tokens('image_input'), 388, 'a part of input, counted on its own too');
    const [event] = events;
    assert.equal(event.type === 'usage.recorded' && event.imageInputTokens, 388);
  });

  it("counts an image model's image output tokens on their own series and in the usage event", async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const events: GatewayEvent[] = [];
    const publisher: EventPublisher = {
      publish: (event) => events.push(event),
      flush: async () => {},
    };
    const made: GatewayAnswer = {
      ...answer,
      usage: {
        inputTokens: 20,
        outputTokens: 1080,
        cachedInputTokens: 0,
        imageOutputTokens: 1056,
        source: 'reported',
      },
    };
    const port = new MeteredProviderPort({ invoke: async () => made }, publisher, metrics, () => ({
      weightedTokens: 1_100,
      dollars: 0,
    }));
    await port.invoke(callTo('east'));
    await new Promise((resolve) => setImmediate(resolve));
    const text = await metrics.metrics();
    const tokens = (type: string) => metricSum(text, 'ai_gateway_tokens_total', { type });
    assert.equal(tokens('output'), 1080);
    assert.equal(tokens('image_output'), 1056, 'a part of output, counted on its own too');
    const [event] = events;
    assert.equal(event.type === 'usage.recorded' && event.imageOutputTokens, 1056);
  });
});
