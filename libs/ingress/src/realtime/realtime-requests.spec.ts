import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import WebSocket from 'ws';
import type { GatewayEndpoint } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type RealtimeConnection,
  type RealtimeListener,
  type RealtimeRouter,
} from '@aigw/contracts/data-plane';
import { startTracing, type Tracing } from '@aigw/observability';
import { until } from '@aigw/testing';
import type { IngressPipeline } from '../ingress-pipeline';
import { bothObservers, type IngressObserver, type RequestFailure } from '../ingress-observer';
import { edgeTracing, type EdgeTracing } from '../tracing/edge-tracing';
import { RealtimeEdge } from './realtime-edge';

/** A router that opens a session (answering one response) or refuses one as asked. */
class FakeRouter implements RealtimeRouter {
  refuse?: DataPlaneError;
  listener?: RealtimeListener;
  connectRealtime(
    _request: GatewayRequest,
    listener: RealtimeListener,
  ): Promise<RealtimeConnection> {
    if (this.refuse) return Promise.reject(this.refuse);
    this.listener = listener;
    listener.frame('{"type":"session.created"}');
    return Promise.resolve({
      servedBy: { backend: 'b', provider: 'openai', model: 'gpt-realtime' },
      send: () =>
        listener.frame(
          JSON.stringify({
            type: 'response.done',
            response: { usage: { input_tokens: 7, output_tokens: 3 } },
          }),
        ),
      close: () => undefined,
    });
  }
}

/** Every request lifecycle call the edge made, in order. */
class Recorder implements IngressObserver {
  readonly calls: string[] = [];
  readonly failures: RequestFailure[] = [];
  started = (endpoint: GatewayEndpoint) => void this.calls.push(`started ${endpoint}`);
  finished = (endpoint: GatewayEndpoint) => void this.calls.push(`finished ${endpoint}`);
  accepted = (endpoint: GatewayEndpoint) => void this.calls.push(`accepted ${endpoint}`);
  completed = (endpoint: GatewayEndpoint) => void this.calls.push(`completed ${endpoint}`);
  failed = (failure: RequestFailure) => {
    this.calls.push(`failed ${failure.endpoint}`);
    this.failures.push(failure);
  };
}

describe('RealtimeEdge: a session is a request (events, metrics, its span)', () => {
  const router = new FakeRouter();
  const recorder = new Recorder();
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let spans: EdgeTracing;
  const server: Server = createServer((_, res) => res.end());
  let url = '';

  before(async () => {
    tracing = await startTracing({ serviceName: 'realtime-test', export: exporter });
    spans = await edgeTracing(tracing);
    // As the real pipeline: the span opens as the request is prepared.
    const pipeline = {
      prepare: (
        operation: 'realtime',
        body: { model: string },
        headers: Record<string, string>,
        requestId: string,
        startedAt?: number,
      ) => {
        const traceContext = spans.open(requestId, operation, headers, startedAt);
        return {
          requestId,
          operation,
          requestedModel: body.model,
          stream: false,
          body,
          caller: { userKey: 'alice' },
          allowedModels: [],
          forwardHeaders: {},
          traceContext,
        } as unknown as GatewayRequest;
      },
      checksAnswers: () => false,
    } as unknown as IngressPipeline;
    const edge = new RealtimeEdge(pipeline, { router }, undefined, bothObservers(recorder, spans));
    server.on('upgrade', (request, socket, head) => edge.upgrade(request, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/realtime?model=voice`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await tracing.shutdown();
  });

  async function finishedSpans() {
    await tracing.flush();
    return exporter.getFinishedSpans();
  }

  it('an open session completes as its client closes, and its span ends with the tokens', async () => {
    recorder.calls.length = 0;
    exporter.reset();
    const client = new WebSocket(url);
    await new Promise((resolve) => client.once('open', resolve));
    client.send('{"type":"response.create"}');
    await new Promise((resolve) => client.once('message', resolve));
    client.close();
    // The server hears the close in its own time.
    await until('the session is finished', () => recorder.calls.includes('finished realtime'));
    assert.deepEqual(recorder.calls, [
      'started realtime',
      'accepted realtime',
      'completed realtime',
      'finished realtime',
    ]);
    const [span, ...more] = await finishedSpans();
    assert.equal(more.length, 0);
    assert.equal(span.name, 'realtime voice');
    assert.equal(span.attributes['ai_gateway.endpoint'], 'realtime');
    assert.equal(span.attributes['gen_ai.usage.input_tokens'], 7);
    assert.equal(span.attributes['gen_ai.response.model'], 'gpt-realtime');
    assert.notEqual(span.status.code, SpanStatusCode.ERROR);
  });

  it('a session ended by its backend fails after the 101, its span an error', async () => {
    recorder.calls.length = 0;
    recorder.failures.length = 0;
    exporter.reset();
    const client = new WebSocket(url);
    await new Promise((resolve) => client.once('open', resolve));
    router.listener!.closed(1011, 'gone');
    await new Promise((resolve) => client.once('close', resolve));
    await until('the session is finished', () => recorder.calls.includes('finished realtime'));
    assert.deepEqual(recorder.calls.slice(-2), ['failed realtime', 'finished realtime']);
    const [failure] = recorder.failures;
    assert.equal(failure.error.code, DataPlaneErrorCode.StreamInterrupted);
    assert.equal(failure.statusSent, 101);
    assert.equal(failure.accepted, true);
    const [span] = await finishedSpans();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['http.response.status_code'], 101);
  });

  it('a refused session fails as a refused call does, and its span ends', async () => {
    recorder.calls.length = 0;
    recorder.failures.length = 0;
    exporter.reset();
    router.refuse = new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, 'slow down');
    try {
      const client = new WebSocket(url);
      const status = await new Promise<number | undefined>((resolve) =>
        client.once('unexpected-response', (_req, res) => resolve(res.statusCode)),
      );
      assert.equal(status, 429);
    } finally {
      router.refuse = undefined;
    }
    await until('the session is finished', () => recorder.calls.includes('finished realtime'));
    assert.deepEqual(recorder.calls, [
      'started realtime',
      'accepted realtime',
      'failed realtime',
      'finished realtime',
    ]);
    assert.equal(recorder.failures[0].error.code, DataPlaneErrorCode.UpstreamRateLimited);
    const [span] = await finishedSpans();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['http.response.status_code'], 429);
  });
});
