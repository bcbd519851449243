import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExportResultCode } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { startTracing } from './tracing';

describe('a started tracer', () => {
  it("sends the spans ended to the exporter, under the service's name", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await startTracing({ serviceName: 'ai-gateway-router', export: exporter });
    tracing.tracer.startSpan('one').end();
    tracing.tracer.startSpan('two').end();
    // Batched: nothing is sent before the batch's delay or a flush.
    assert.equal(exporter.getFinishedSpans().length, 0);
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    assert.deepEqual(
      spans.map((span) => span.name),
      ['one', 'two'],
    );
    assert.equal(spans[0].resource.attributes['service.name'], 'ai-gateway-router');
    assert.equal(spans[0].instrumentationScope.name, 'ai-gateway');
    await tracing.shutdown();
  });

  it('sends what is left when it shuts down', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await startTracing({ serviceName: 's', export: exporter });
    const kept: ReadableSpan[] = [];
    const original = exporter.export.bind(exporter);
    exporter.export = (spans, done) => {
      kept.push(...spans);
      original(spans, done);
    };
    tracing.tracer.startSpan('last').end();
    await tracing.shutdown();
    assert.deepEqual(
      kept.map((span) => span.name),
      ['last'],
    );
  });

  it('records nothing the sampler drops: a ratio of 0, and what a caller did not sample', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await startTracing({
      serviceName: 's',
      export: exporter,
      sampler: { root: 'traceidratio', parentBased: true, ratio: 0 },
    });
    const span = tracing.tracer.startSpan('dropped');
    assert.equal(span.isRecording(), false);
    // Still a valid context to hand on, flagged not sampled.
    assert.equal(span.spanContext().traceFlags, 0);
    span.end();
    await tracing.flush();
    assert.equal(exporter.getFinishedSpans().length, 0);
    await tracing.shutdown();
  });

  it('reports a batch that could not be exported', async () => {
    const failures: unknown[] = [];
    const failing: SpanExporter = {
      export: (_spans, done) =>
        done({ code: ExportResultCode.FAILED, error: new Error('collector unreachable') }),
      shutdown: async () => undefined,
    };
    const tracing = await startTracing({
      serviceName: 's',
      export: failing,
      batchDelayMs: 1,
      onExportError: (error) => failures.push(error),
    });
    tracing.tracer.startSpan('lost').end();
    for (let i = 0; i < 50 && failures.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(failures.length, 1);
    assert.match(String(failures[0]), /collector unreachable/);
    await tracing.shutdown();
  });

  it('posts OTLP protobuf to the traces URL by default, and OTLP JSON when asked', async () => {
    const received: { path?: string; type?: string; bytes: number }[] = [];
    const collector = createServer((request, response) => {
      let bytes = 0;
      request.on('data', (chunk: Buffer) => (bytes += chunk.length));
      request.on('end', () => {
        received.push({ path: request.url, type: request.headers['content-type'], bytes });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    try {
      for (const protocol of ['http/protobuf', 'http/json'] as const) {
        const tracing = await startTracing({ serviceName: 's', export: { url, protocol } });
        tracing.tracer.startSpan('sent').end();
        await tracing.shutdown();
      }
    } finally {
      collector.closeAllConnections();
      await new Promise((resolve) => collector.close(resolve));
    }
    assert.deepEqual(
      received.map(({ path, type }) => [path, type]),
      [
        ['/v1/traces', 'application/x-protobuf'],
        ['/v1/traces', 'application/json'],
      ],
    );
    assert.ok(received.every(({ bytes }) => bytes > 0));
  });
});
