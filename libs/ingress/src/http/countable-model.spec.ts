import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Context } from '@opentelemetry/api';
import {
  TracerProvider,
  type ReadableSpan,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type { RouterPort } from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';
import { OtelEdgeTracing } from '../tracing/otel-edge-tracing';
import { countedInputTokens } from './countable-model';

function config(): GatewayConfig {
  const result = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: local, model: m}]
`,
    { env: {} },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const router: RouterPort = {
  route: () => Promise.reject(new Error('a count routes nothing')),
  listModels: () => ['m'],
};

/** The spans started and not yet ended: what a tracer holds in memory, never exported. */
class OpenSpans implements SpanProcessor {
  readonly open = new Set<string>();
  onStart(span: Span, _parent: Context): void {
    this.open.add(span.spanContext().spanId);
  }
  onEnd(span: ReadableSpan): void {
    this.open.delete(span.spanContext().spanId);
  }
  forceFlush = (): Promise<void> => Promise.resolve();
  shutdown = (): Promise<void> => Promise.resolve();
}

describe('counting input tokens with tracing on', () => {
  it('leaves no span open (a count is no model call: nothing would ever end one)', async () => {
    const spans = new OpenSpans();
    const provider = new TracerProvider({ spanProcessors: [spans] });
    const tracing = new OtelEdgeTracing(provider.getTracer('t'));
    const pipeline = new IngressPipeline(config, router, {}, tracing);
    const chat = { model: 'm', messages: [{ role: 'user', content: 'hello there' }] };

    const tokens = await countedInputTokens(pipeline, chat, {}, 'count-1');

    assert.ok(tokens > 0);
    assert.deepEqual([...spans.open], []);
    // Refused (no route serves the model): none either.
    await assert.rejects(
      countedInputTokens(pipeline, { ...chat, model: 'unknown' }, {}, 'count-2'),
      /unknown/,
    );
    assert.deepEqual([...spans.open], []);
    await provider.shutdown();
  });
});
