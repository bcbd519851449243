// A Kafka producer spool that SQLite cannot read (a torn or corrupted file) must not keep a
// data-plane service from starting: every start used to stop on it, saying the spool was
// "in use by another process", so the pod crash-looped until someone deleted the file.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { metricSum, numberedUsageEvent, until } from '@aigw/testing';
import { ServiceRuntime } from './service-runtime';
import { logLines } from './testing/log-lines';
import { ONE_BACKEND_CONFIG } from './testing/one-backend-config';

const dir = mkdtempSync(join(tmpdir(), 'aigw-unreadable-spool-'));
// The WAL checkpoint worker closes its own connection in its own time: retried.
after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
const configPath = join(dir, 'gateway.yaml');
writeFileSync(configPath, ONE_BACKEND_CONFIG);

describe('a data-plane service whose Kafka spool cannot be read', () => {
  it('starts on a fresh spool, keeps the unreadable file aside, logs and counts it', async () => {
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const spoolPath = join(dataDir, 'ingress-kafka-spool.db');
    const garbage = Buffer.from('not a database '.repeat(400));
    writeFileSync(spoolPath, garbage);

    const { result: runtime, lines } = await logLines(() =>
      ServiceRuntime.open(
        {
          AI_GATEWAY_CONFIG: configPath,
          AI_GATEWAY_DATA_DIR: dataDir,
          KAFKA_BROKERS: '127.0.0.1:1',
          AI_GATEWAY_LOG_LEVEL: 'error',
        },
        { app: 'ingress', missingSecrets: 'not-needed' },
      ),
    );
    try {
      const aside = readdirSync(dataDir).filter((name) =>
        name.startsWith('ingress-kafka-spool.db.unreadable-'),
      );
      assert.equal(
        aside.length,
        1,
        `the unreadable file is kept aside: ${readdirSync(dataDir).join(', ')}`,
      );
      assert.ok(existsSync(spoolPath), 'a fresh spool in its place');
      const logged = lines.find((line) =>
        (line as { msg?: string }).msg?.includes('event spool could not be read'),
      ) as Record<string, unknown> | undefined;
      assert.ok(logged, `an error names it: ${JSON.stringify(lines)}`);
      assert.equal(logged.level, 'error');
      assert.equal(logged.movedTo, join(dataDir, aside[0]));
      assert.match(String(logged.reason), /not a database/);
      assert.equal(
        metricSum(await runtime.metrics.metrics(), 'ai_gateway_event_spool_set_aside'),
        1,
      );

      // The fresh spool takes the events Kafka does not.
      runtime.events.publish(numberedUsageEvent('ursula', 1));
      await runtime.events.flush();
      await until(
        'the event is spooled',
        async () =>
          metricSum(await runtime.metrics.metrics(), 'ai_gateway_kafka_producer_spool_depth') === 1,
      );
    } finally {
      await runtime.close();
    }
  });
});
