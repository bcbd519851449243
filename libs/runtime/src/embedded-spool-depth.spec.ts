// ai_gateway_kafka_producer_spool_depth on the all-in-one gateway counts the events its
// embedded log has not taken: AiGatewayEventBacklog pages when it stays above 0 for five
// minutes. Events waiting the 50 ms for the next timed flush of a healthy log are not held:
// sampled every second, a busy gateway's gauge read above 0 nearly every time and the alert
// fired with nothing wrong.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, mock } from 'node:test';
import { metricSum, numberedUsageEvent } from '@aigw/testing';
import { ServiceRuntime } from './service-runtime';
import { ONE_BACKEND_CONFIG } from './testing/one-backend-config';

const dir = mkdtempSync(join(tmpdir(), 'aigw-embedded-spool-depth-'));
// The WAL checkpoint worker closes its own connection in its own time: retried.
after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
const configPath = join(dir, 'gateway.yaml');
writeFileSync(configPath, ONE_BACKEND_CONFIG);

describe('the all-in-one gateway’s spool depth', () => {
  it('reads 0 for events a healthy event log is about to write', async () => {
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    // The gauge is sampled on an interval: driven by hand, so the sample falls right
    // after the publish, before the flush timer (setTimeout, left real) writes it.
    mock.timers.enable({ apis: ['setInterval'] });
    const runtime = await ServiceRuntime.open(
      {
        AI_GATEWAY_CONFIG: configPath,
        AI_GATEWAY_DATA_DIR: dataDir,
        AI_GATEWAY_LOG_LEVEL: 'error',
      },
      { app: 'gateway', missingSecrets: 'not-needed' },
    );
    try {
      runtime.events.publish(numberedUsageEvent('healthy', 1));
      mock.timers.tick(1_000);
      const text = await runtime.metrics.metrics();
      assert.equal(metricSum(text, 'ai_gateway_kafka_producer_spool_depth'), 0);
      await runtime.events.flush();
    } finally {
      mock.timers.reset();
      await runtime.close();
    }
  });
});
