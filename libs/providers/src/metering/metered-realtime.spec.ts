import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventPublisher, GatewayEvent } from '@aigw/contracts';
import type { RealtimeCall, RealtimeFrame } from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { metricSum } from '@aigw/testing';
import { MeteredProviderPort } from './metered-provider';

const done = (input: number, output: number) =>
  JSON.stringify({
    type: 'response.done',
    response: { usage: { input_tokens: input, output_tokens: output } },
  });

describe('MeteredProviderPort: realtime sessions', () => {
  it('records each response.done as a usage event; only the first carries the hold', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const events: GatewayEvent[] = [];
    const publisher: EventPublisher = { publish: (e) => events.push(e), flush: async () => {} };
    let upstream: RealtimeCall | undefined;
    const port = new MeteredProviderPort(
      { invoke: () => Promise.reject(new Error('no calls')) },
      publisher,
      metrics,
      (_call, _servedBy, usage) => ({
        weightedTokens: usage.inputTokens + usage.outputTokens,
        dollars: 0.5,
      }),
      {
        connectRealtime: (call) => {
          upstream = call;
          return Promise.resolve({
            servedBy: { backend: 'east', provider: 'openai', model: 'gpt-realtime' },
            send: () => undefined,
            close: () => undefined,
          });
        },
      },
    );
    const heard: RealtimeFrame[] = [];
    await port.connectRealtime({
      request: {
        requestId: 'r1',
        operation: 'realtime',
        requestedModel: 'voice',
        stream: false,
        clientWantsStreamUsage: false,
        body: { model: 'voice' },
        caller: { userKey: 'alice' },
        allowedModels: [],
        forwardHeaders: {},
        reservationId: 'hold-1',
      },
      target: {
        backendName: 'east',
        provider: 'openai',
        model: 'gpt-realtime',
        requestTimeoutMs: 1_000,
        firstByteTimeoutMs: 1_000,
      },
      listener: { frame: (frame) => heard.push(frame), closed: () => undefined },
      signal: new AbortController().signal,
    });
    const frames = [
      '{"type":"response.created"}',
      done(10, 5),
      '{"type":"response.done","response":{"status":"cancelled"}}',
      done(20, 7),
    ];
    for (const frame of frames) upstream!.listener.frame(frame);
    assert.deepEqual(heard, frames, 'every frame reaches the session as it came');
    const usage = events.filter((e) => e.type === 'usage.recorded') as unknown as {
      inputTokens: number;
      reservationId?: string;
      operation: string;
      userId: string;
      modelServed: string;
    }[];
    assert.deepEqual(
      usage.map((e) => [e.inputTokens, e.reservationId, e.operation, e.userId, e.modelServed]),
      [
        [10, 'hold-1', 'realtime', 'alice', 'gpt-realtime'],
        [20, undefined, 'realtime', 'alice', 'gpt-realtime'],
      ],
    );
    const text = await metrics.registry.metrics();
    assert.equal(metricSum(text, 'ai_gateway_cost_dollars', { user: 'alice' }), 1);
    assert.equal(metricSum(text, 'ai_gateway_backend_requests_total', { backend: 'east' }), 1);
  });
});
