// A data-plane service whose Kafka does not answer serves at once: the runtime opens, its
// admin listener answers /readyz (ready, the kafka check saying Kafka is unreachable and
// why) and /metrics (transport not connected, failed tries counted) within a second or so,
// where waiting out the Kafka client's reconnect retries took about 25 s.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { KafkaBusStatus } from '@aigw/infra';
import { MetricsRegistry } from '@aigw/observability';
import { freeLoopbackPort, metricSum } from '@aigw/testing';
import { KafkaTransportWatch } from './kafka-transport-watch';
import { ServiceRuntime } from './service-runtime';

// About 0.3 s alone; the bound leaves room for a busy machine running suites in parallel
// and still fails the ~25 s a start waiting out the client's retries takes.
const SERVES_WITHIN_MS = 5_000;

const status = (over: Partial<KafkaBusStatus>): KafkaBusStatus => ({
  state: 'connected',
  reachable: true,
  ready: true,
  spooled: 0,
  spooledBytes: 0,
  refused: 0,
  ...over,
});

describe('KafkaTransportWatch', () => {
  it('counts tries by outcome and says in the kafka check why Kafka is unreachable', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const watch = new KafkaTransportWatch(metrics);
    const down = status({ state: 'spooling', reachable: false, spooled: 3 });
    assert.equal(watch.readinessState(down), 'spooling (3 events spooled); Kafka unreachable');

    watch.observer.connectionAttempt?.('failed', new Error('connect ECONNREFUSED 10.0.0.1:9092'));
    watch.observer.connectionAttempt?.('failed', new Error('connect ETIMEDOUT 10.0.0.1:9092'));
    assert.equal(
      watch.readinessState(down),
      'spooling (3 events spooled); Kafka unreachable: 2 tries failed, last: connect ETIMEDOUT 10.0.0.1:9092',
    );
    watch.observer.connectionAttempt?.('connected');
    assert.equal(watch.readinessState(status({ spooled: 1 })), 'connected (1 events spooled)');

    const text = await metrics.metrics();
    const attempts = 'ai_gateway_event_transport_connection_attempts_total';
    assert.equal(metricSum(text, attempts, { transport: 'kafka', outcome: 'failed' }), 2);
    assert.equal(metricSum(text, attempts, { transport: 'kafka', outcome: 'connected' }), 1);
  });

  it('samples the bus into the connected gauge until stopped', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const watch = new KafkaTransportWatch(metrics);
    let reachable = false;
    watch.follow({ status: () => status({ reachable }) });
    const gauge = async () =>
      metricSum(await metrics.metrics(), 'ai_gateway_event_transport_connected', {
        transport: 'kafka',
      });
    try {
      assert.equal(await gauge(), 0, 'set at once');
      reachable = true;
      await new Promise((r) => setTimeout(r, 1_100));
      assert.equal(await gauge(), 1);
    } finally {
      watch.stop();
    }
  });
});

describe('ServiceRuntime with Kafka unreachable at start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-kafka-down-'));
  // The WAL checkpoint worker closes its own connection in its own time: retried.
  after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));

  it('a data-plane role answers /readyz and /metrics within seconds, ready and saying Kafka is down', async () => {
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: kafka-down}
spec:
  backends:
  - {name: local, provider: local, model: gpt-4o-mini}
`,
    );
    const since = Date.now();
    const runtime = await ServiceRuntime.open(
      {
        AI_GATEWAY_CONFIG: config,
        AI_GATEWAY_DATA_DIR: join(dir, 'data'),
        // Free now: nothing listens on it, so a connection is refused at once.
        KAFKA_BROKERS: `127.0.0.1:${await freeLoopbackPort()}`,
        PORT: '0',
        ADMIN_PORT: '0',
        HOST: '127.0.0.1',
        AI_GATEWAY_LOG_LEVEL: 'fatal',
      },
      { app: 'ingress' },
    );
    try {
      const { adminPort } = await runtime.serve();
      const readyz = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
      const answeredAfter = Date.now() - since;
      const body = (await readyz.json()) as { status: string; checks: Record<string, string> };
      assert.ok(
        answeredAfter < SERVES_WITHIN_MS,
        `answered ${answeredAfter} ms after the start, bound ${SERVES_WITHIN_MS}`,
      );
      assert.equal(readyz.status, 200);
      assert.equal(body.status, 'ready');
      // One try failed by now, or more on a busy machine (the next comes 250 ms later).
      assert.match(
        body.checks.kafka,
        /^spooling; Kafka unreachable: \d+ tr(?:y|ies) failed, last: .*ECONNREFUSED 127\.0\.0\.1:\d+$/,
      );

      // The tries go on in the background, each counted.
      await new Promise((r) => setTimeout(r, 1_000));
      const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      assert.equal(
        metricSum(text, 'ai_gateway_event_transport_connected', { transport: 'kafka' }),
        0,
      );
      const failed = metricSum(text, 'ai_gateway_event_transport_connection_attempts_total', {
        transport: 'kafka',
        outcome: 'failed',
      });
      assert.ok(failed >= 2, `${failed} failed tries counted`);
      const healthz = await fetch(`http://127.0.0.1:${adminPort}/healthz`);
      assert.equal(healthz.status, 200, 'alive: nothing to restart');
    } finally {
      await runtime.close();
    }
  });
});
