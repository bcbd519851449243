// AI_GATEWAY_ANSWER_AFTER_RECORD=on, at the metering: an answer (a JSON body, a stream's
// end, a Realtime response.done) reaches its client only once its usage event passed the
// publisher's recordBarrier; off (no barrier), nothing waits and nothing is measured.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventPublisher, GatewayEvent } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type JsonObject,
  type ProviderCall,
  type RealtimeCall,
  type RealtimeFrame,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { metricSum } from '@aigw/testing';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { MeteredProviderPort } from './metered-provider';

const WAIT = 'ai_gateway_answer_record_wait_seconds_count';
const usage: TokenUsage = {
  inputTokens: 3,
  outputTokens: 2,
  cachedInputTokens: 0,
  source: 'reported',
};
const servedBy = { backend: 'east', provider: 'openai', model: 'gpt-4' };

function call(stream = false): ProviderCall {
  return {
    request: { ...gatewayChatRequest(), stream },
    signal: new AbortController().signal,
    target: {
      backendName: 'east',
      provider: 'openai',
      model: 'gpt-4',
      requestTimeoutMs: 1_000,
      firstByteTimeoutMs: 1_000,
    },
  };
}

/** A publisher whose barrier calls each wait until the test opens (or fails) them. */
function gatedPublisher() {
  const events: GatewayEvent[] = [];
  /** What each barrier call saw published when it was made. */
  const barrierCalls: number[] = [];
  const opens: { open: () => void; fail: (error: Error) => void }[] = [];
  const publisher: EventPublisher = {
    publish: (event) => events.push(event),
    flush: async () => undefined,
    recordBarrier: () => {
      barrierCalls.push(events.length);
      return new Promise<void>((open, fail) => opens.push({ open, fail }));
    },
  };
  return { publisher, events, barrierCalls, opens };
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

function port(publisher: EventPublisher, metrics: MetricsRegistry, answer: () => GatewayAnswer) {
  return new MeteredProviderPort({ invoke: async () => answer() }, publisher, metrics, () => ({
    weightedTokens: 5,
    dollars: 0,
  }));
}

function streamOf(chunks: JsonObject[], failAtEnd?: DataPlaneError) {
  let settle!: (usage: TokenUsage) => void;
  const settled = new Promise<TokenUsage>((resolve) => (settle = resolve));
  async function* events() {
    try {
      yield* chunks;
      if (failAtEnd) throw failAtEnd;
    } finally {
      settle(usage); // as the adapters do: usage settles when the stream ends, however
    }
  }
  return { kind: 'stream', status: 200, events: events(), usage: settled, servedBy } as const;
}

describe('MeteredProviderPort with answers after their record', () => {
  it('returns a JSON answer only once its usage event passed the barrier, and measures the wait', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const { publisher, events, barrierCalls, opens } = gatedPublisher();
    const json: GatewayAnswer = { kind: 'json', status: 200, body: {}, usage, servedBy };
    let returned = false;
    const answered = port(publisher, metrics, () => json)
      .invoke(call())
      .then((answer) => {
        returned = true;
        return answer;
      });
    await turns();
    assert.equal(returned, false, 'held until the record is durable');
    assert.deepEqual(barrierCalls, [1], 'the barrier was asked after the usage event');
    assert.equal(events[0].type, 'usage.recorded');
    opens[0].open();
    assert.equal(await answered, json);
    assert.equal(metricSum(await metrics.metrics(), WAIT, { outcome: 'durable' }), 1);
  });

  it('lets a JSON answer go when the record could not be written, counted as failed', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const { publisher, opens } = gatedPublisher();
    const json: GatewayAnswer = { kind: 'json', status: 200, body: {}, usage, servedBy };
    const answered = port(publisher, metrics, () => json).invoke(call());
    await turns();
    opens[0].fail(new Error('the event log refused the write'));
    assert.equal(await answered, json);
    const text = await metrics.metrics();
    assert.equal(metricSum(text, WAIT, { outcome: 'failed' }), 1);
    assert.equal(metricSum(text, WAIT, { outcome: 'durable' }), 0);
  });

  it("relays a stream's chunks at once and ends it only once its usage event passed the barrier", async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const { publisher, events, barrierCalls, opens } = gatedPublisher();
    const chunks = [{ n: 1 }, { n: 2 }];
    const answer = await port(publisher, metrics, () => streamOf(chunks)).invoke(call(true));
    assert.equal(answer.kind, 'stream');
    if (answer.kind !== 'stream') return;
    const iterator = answer.events[Symbol.asyncIterator]();
    assert.deepEqual(await iterator.next(), { value: { n: 1 }, done: false });
    assert.deepEqual(await iterator.next(), { value: { n: 2 }, done: false });
    let ended = false;
    const end = iterator.next().then((result) => {
      ended = true;
      return result;
    });
    await turns();
    assert.equal(ended, false, 'the end waits for the record');
    assert.deepEqual(barrierCalls, [1]);
    assert.equal(events[0].type, 'usage.recorded');
    opens[0].open();
    assert.deepEqual(await end, { value: undefined, done: true });
    assert.equal(metricSum(await metrics.metrics(), WAIT, { outcome: 'durable' }), 1);
  });

  it('ends a stream broken midway with its error only after its record, and never holds a client that left', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const { publisher, barrierCalls, opens } = gatedPublisher();
    const broken = new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'cut');
    const metered = port(publisher, metrics, () => streamOf([{ n: 1 }], broken));
    const answer = await metered.invoke(call(true));
    if (answer.kind !== 'stream') return assert.fail('a stream');
    const iterator = answer.events[Symbol.asyncIterator]();
    await iterator.next();
    let failed = false;
    const failure = iterator.next().catch((error: unknown) => {
      failed = true;
      return error;
    });
    await turns();
    assert.equal(failed, false);
    opens[0].open();
    assert.equal(await failure, broken);

    // A client that stops reading ends its stream at once; its usage is still recorded.
    const left = await metered.invoke(call(true));
    if (left.kind !== 'stream') return assert.fail('a stream');
    const reading = left.events[Symbol.asyncIterator]();
    await reading.next();
    assert.deepEqual(await reading.return!(undefined), { value: undefined, done: true });
    await turns();
    assert.equal(barrierCalls.length, 1, 'nobody waits on the record of an abandoned stream');
  });

  it('changes nothing without a barrier: the same answer object, no wait measured', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const events: GatewayEvent[] = [];
    const publisher: EventPublisher = { publish: (e) => events.push(e), flush: async () => {} };
    const stream = streamOf([{ n: 1 }]);
    const answer = await port(publisher, metrics, () => stream).invoke(call(true));
    assert.equal(answer, stream);
    for await (const chunk of stream.events) void chunk;
    await turns();
    assert.equal(events.length, 1);
    assert.doesNotMatch(await metrics.metrics(), /^ai_gateway_answer_record_wait_seconds_count/m);
  });

  it('holds a Realtime response.done, and every frame after it, until its record passed the barrier', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const { publisher, events, barrierCalls, opens } = gatedPublisher();
    let upstream: RealtimeCall | undefined;
    const metered = new MeteredProviderPort(
      { invoke: () => Promise.reject(new Error('no calls')) },
      publisher,
      metrics,
      () => ({ weightedTokens: 1, dollars: 0 }),
      {
        connectRealtime: (realtime) => {
          upstream = realtime;
          return Promise.resolve({ servedBy, send: () => undefined, close: () => undefined });
        },
      },
    );
    const heard: (RealtimeFrame | string)[] = [];
    await metered.connectRealtime({
      request: { ...gatewayChatRequest(), operation: 'realtime' },
      target: call().target,
      listener: {
        frame: (frame) => heard.push(frame),
        closed: (code) => heard.push(`closed ${code}`),
      },
      signal: new AbortController().signal,
    });
    const done = JSON.stringify({
      type: 'response.done',
      response: { usage: { input_tokens: 4, output_tokens: 2 } },
    });
    upstream!.listener.frame('{"type":"response.created"}');
    upstream!.listener.frame(done);
    upstream!.listener.frame('{"type":"response.created","n":2}');
    upstream!.listener.closed(1000, '');
    await turns();
    assert.deepEqual(heard, ['{"type":"response.created"}'], 'before the record: at once');
    assert.deepEqual(barrierCalls, [1]);
    assert.equal(events[0].type, 'usage.recorded');
    opens[0].open();
    await turns();
    assert.deepEqual(heard, [
      '{"type":"response.created"}',
      done,
      '{"type":"response.created","n":2}',
      'closed 1000',
    ]);
  });
});
