import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { GatewayEndpoint } from '@aigw/contracts';
import type { RouterPort } from '@aigw/contracts/data-plane';
import { startTracing, type Tracing } from '@aigw/observability';
import { IngressPipeline } from '../ingress-pipeline';
import { edgeTracing, type EdgeTracing } from './edge-tracing';

// What the provider is sent is the request's forwarded headers (providerPost spreads them),
// in one process and across the three, where they travel with the request.

const CLIENT_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE_ID}-b7ad6b7169203331-01`;

function config(security = ''): GatewayConfig {
  const result = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: local, model: m}]
${security}`,
    { env: {} },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const router: RouterPort = {
  route: () => Promise.reject(new Error('not used')),
  listModels: () => ['m'],
};

const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const clientHeaders = {
  traceparent: CLIENT_TRACEPARENT,
  tracestate: 'congo=t61rcWkgMzE',
  'x-trace-note': 'kept',
};

describe('the trace context the provider is sent', () => {
  let tracing: Tracing | undefined;
  let exporter: InMemorySpanExporter;

  async function tracedPipeline(security = ''): Promise<[IngressPipeline, EdgeTracing]> {
    exporter = new InMemorySpanExporter();
    tracing = await startTracing({ serviceName: 't', export: exporter });
    const edge = await edgeTracing(tracing);
    return [new IngressPipeline(() => config(security), router, {}, edge), edge];
  }

  afterEach(() => tracing?.shutdown());

  it("names the gateway's span, in the client's trace, in place of the client's", async () => {
    const [pipeline, edge] = await tracedPipeline();
    const request = await pipeline.prepare('chat', body, clientHeaders, 'req-1');
    edge.completed(
      GatewayEndpoint.ChatCompletions,
      request,
      { backend: 'b', provider: 'local', model: 'm' },
      { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'estimated' },
      { startedAt: 0 },
    );
    await tracing!.flush();
    const [span] = exporter.getFinishedSpans();
    const { traceId, spanId } = span.spanContext();
    assert.equal(traceId, CLIENT_TRACE_ID);
    assert.deepEqual(request.forwardHeaders, {
      traceparent: `00-${CLIENT_TRACE_ID}-${spanId}-01`,
      tracestate: 'congo=t61rcWkgMzE',
      'x-trace-note': 'kept',
    });
    assert.deepEqual(request.traceContext, {
      traceparent: `00-${CLIENT_TRACE_ID}-${spanId}-01`,
      tracestate: 'congo=t61rcWkgMzE',
    });
  });

  it('starts the trace when the client sent none', async () => {
    const [pipeline] = await tracedPipeline();
    const request = await pipeline.prepare('chat', body, {}, 'req-1');
    assert.match(request.forwardHeaders.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.ok(!request.forwardHeaders.traceparent.includes(CLIENT_TRACE_ID));
    assert.equal(request.forwardHeaders.tracestate, undefined);
  });

  it('is not sent where the route strips traceparent', async () => {
    const [pipeline] = await tracedPipeline(
      '  security: {stripHeaders: [traceparent, tracestate]}',
    );
    const request = await pipeline.prepare('chat', body, clientHeaders, 'r');
    assert.deepEqual(request.forwardHeaders, { 'x-trace-note': 'kept' });
    // The router's spans still join the edge's trace, from the request's own field.
    assert.match(
      request.traceContext?.traceparent ?? '',
      new RegExp(`^00-${CLIENT_TRACE_ID}-[0-9a-f]{16}-01$`),
    );
    assert.equal(request.traceContext?.tracestate, 'congo=t61rcWkgMzE');
  });

  it('sends no tracestate where the route strips only tracestate', async () => {
    const [pipeline] = await tracedPipeline('  security: {stripHeaders: [tracestate]}');
    const request = await pipeline.prepare('chat', body, clientHeaders, 'r');
    assert.match(
      request.forwardHeaders.traceparent ?? '',
      new RegExp(`^00-${CLIENT_TRACE_ID}-[0-9a-f]{16}-01$`),
    );
    assert.equal(request.forwardHeaders.tracestate, undefined);
    assert.equal(request.forwardHeaders['x-trace-note'], 'kept');
  });

  it("is the client's own, unchanged, when tracing is off", async () => {
    const pipeline = new IngressPipeline(() => config(), router, {});
    const request = await pipeline.prepare('chat', body, clientHeaders, 'r');
    assert.deepEqual(request.forwardHeaders, clientHeaders);
    assert.equal('traceContext' in request, false);
  });
});
