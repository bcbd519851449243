// Spans a collector refuses are lost: an operator sees it on /metrics, not only in a log
// line that comes at most once a minute.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger, MetricsRegistry } from '@aigw/observability';
import { metricSum, until } from '@aigw/testing';
import { openTracing, tracingSettings } from './tracing-settings';

it('counts every export the collector refused in ai_gateway_tracing_errors_total, and warns once', async () => {
  const collector = createServer((_request, response) => {
    response.writeHead(400, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const { port } = collector.address() as AddressInfo;
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  const metrics = new MetricsRegistry();
  const settings = tracingSettings(
    {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    },
    'gateway',
  );
  // The batch processor's own timer exports (and reports a failure); a flush would reject.
  const tracing = await openTracing(settings, logger, metrics, { batchDelayMs: 1 });
  assert.ok(tracing);
  const failures = async () =>
    metricSum(await metrics.metrics(), 'ai_gateway_tracing_errors_total');
  try {
    for (const [index, name] of ['first', 'second'].entries()) {
      tracing.tracer.startSpan(name).end();
      await until(
        `export failure ${index + 1} is counted`,
        async () => (await failures()) === index + 1,
        {
          everyMs: 10,
        },
      );
    }
    const warnings = lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1, 'the warning comes at most once a minute');
  } finally {
    await tracing.shutdown();
    await new Promise((resolve) => collector.close(resolve));
  }
});
