// ai_gateway_usage_sink_write_failures_total: a batch the store did not take is counted by
// store, and still fails its delivery (nothing is committed, the bus redelivers it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatewayEvent } from '@aigw/contracts';
import { MetricsRegistry } from '@aigw/observability';
import { meteredUsageSinkConsumer } from './usage-sink-runtime';
import type { UsageEventWriter } from './usage-sink.consumer';

/** A writer that fails its first `failures` writes, then stores. */
function flakyWriter(failures: number): UsageEventWriter & { stored: number } {
  let left = failures;
  const writer = {
    stored: 0,
    write: async (events: readonly GatewayEvent[]) => {
      if (left > 0) {
        left--;
        throw new Error('Code: 252. DB::Exception: Too many parts');
      }
      writer.stored += events.length;
    },
  };
  return writer;
}

const event = { id: 'e1' } as unknown as GatewayEvent;
const batch = { maxItems: 1, maxWaitMs: 0 };

async function failureLines(metrics: MetricsRegistry): Promise<string[]> {
  const text = await metrics.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith('ai_gateway_usage_sink_write_failures_total{'));
}

describe('usage-sink write failures', () => {
  for (const store of ['clickhouse', 'embedded'] as const) {
    it(`counts each failed write to ${store} and leaves the delivery failed`, async () => {
      const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
      const writer = flakyWriter(2);
      const consumer = meteredUsageSinkConsumer(writer, batch, store, metrics);
      await assert.rejects(consumer.handle([event]), /Too many parts/);
      await assert.rejects(consumer.handle([event]), /Too many parts/);
      await consumer.handle([event]);
      assert.equal(writer.stored, 1);
      assert.deepEqual(await failureLines(metrics), [
        `ai_gateway_usage_sink_write_failures_total{store="${store}"} 2`,
      ]);
    });
  }

  it('counts nothing while writes succeed', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const consumer = meteredUsageSinkConsumer(flakyWriter(0), batch, 'clickhouse', metrics);
    await consumer.handle([event]);
    assert.deepEqual(await failureLines(metrics), []);
  });
});
