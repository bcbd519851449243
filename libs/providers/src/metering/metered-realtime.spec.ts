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

  it('bills each input-audio transcription apart, as the transcription model the backend named', async () => {
    const events: GatewayEvent[] = [];
    const publisher: EventPublisher = { publish: (e) => events.push(e), flush: async () => {} };
    const priced: string[] = [];
    let upstream: RealtimeCall | undefined;
    const port = new MeteredProviderPort(
      { invoke: () => Promise.reject(new Error('no calls')) },
      publisher,
      new MetricsRegistry({ collectDefaultMetrics: false }),
      (_call, servedBy, usage) => {
        priced.push(servedBy.model);
        return { weightedTokens: usage.inputTokens, dollars: (usage.audioSeconds ?? 0) / 60 };
      },
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
      listener: { frame: () => undefined, closed: () => undefined },
      signal: new AbortController().signal,
    });
    const completed = (usage: unknown) =>
      JSON.stringify({ type: 'conversation.item.input_audio_transcription.completed', usage });
    const frames = [
      JSON.stringify({
        type: 'session.updated',
        session: { audio: { input: { transcription: { model: 'gpt-4o-transcribe' } } } },
      }),
      completed({
        type: 'tokens',
        input_tokens: 200,
        output_tokens: 30,
        input_token_details: { audio_tokens: 180 },
      }),
      JSON.stringify({
        type: 'session.updated',
        session: { input_audio_transcription: { model: 'whisper-1' } },
      }),
      completed({ type: 'duration', seconds: 30 }),
    ];
    for (const frame of frames) upstream!.listener.frame(frame);
    const usage = events.filter((e) => e.type === 'usage.recorded') as unknown as {
      inputTokens: number;
      outputTokens: number;
      reservationId?: string;
      operation: string;
      userId: string;
      modelServed: string;
      costDollars: number;
    }[];
    assert.deepEqual(
      usage.map((e) => [
        e.modelServed,
        e.inputTokens,
        e.outputTokens,
        e.costDollars,
        e.operation,
        e.userId,
        e.reservationId,
      ]),
      [
        ['gpt-4o-transcribe', 200, 30, 0, 'realtime', 'alice', undefined],
        ['whisper-1', 0, 0, 0.5, 'realtime', 'alice', undefined],
      ],
    );
    assert.deepEqual(priced, ['gpt-4o-transcribe', 'whisper-1']);
  });
});
