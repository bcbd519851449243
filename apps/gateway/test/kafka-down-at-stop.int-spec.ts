// A stop while Kafka is down (a broker restarting with the rest of a rollout, a network
// cut). The listener closes at once, as on any stop: new connections are refused while the
// answers in flight drain, the stream still running is ended at the drain deadline with its
// error event, the events wait in the spool for the next start, and the process exits 0
// by itself. Leaving the consumer group first, with no broker to tell, took the Kafka
// client's retries (tens of seconds), and the listener went on taking new calls
// meanwhile, past the drain deadline and into a compose stop's SIGKILL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareEventTopics } from '@aigw/infra';
import { engineSkipReason, startRestartableKafka, type RestartableKafka } from '@aigw/testing';
import { HangingUpstream, streamReadThroughStop } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { until } from '@aigw/testing';
import { hasErrorEvent, looksFinished } from './fuzz/answer-checks';

const DRAIN_MS = 10_000;

// The broker to stop is always a container of this suite's own.
const skip = engineSkipReason('a Kafka broker of its own to stop');

describe('a stop while Kafka is down', { skip }, () => {
  const upstream = new HangingUpstream();
  let kafka: RestartableKafka;
  let gateway: AppProcess | undefined;

  before(async () => {
    [kafka] = await Promise.all([startRestartableKafka(), upstream.start()]);
    const prefix = `it.stop.${randomUUID().slice(0, 8)}.`;
    await prepareEventTopics(kafka.url, { prefix, partitions: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'aigw-kafka-stop-'));
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: held}
spec:
  backends:
  - {name: only, provider: vllm, baseUrl: "${upstream.baseUrl}", model: m, modelNameOverride: held, streamIdleTimeout: 900s}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_MISSING_SECRETS: 'warn',
      AI_GATEWAY_DRAIN_TIMEOUT_MS: String(DRAIN_MS),
      KAFKA_BROKERS: kafka.url,
      AI_GATEWAY_KAFKA_TOPIC_PREFIX: prefix,
    });
  });

  after(async () => {
    await gateway?.stop('SIGKILL');
    await Promise.all([kafka?.stop(), upstream.stop()]);
  });

  it('refuses new connections at once, ends the stream at its deadline, spools and exits 0', async () => {
    const running = gateway!;
    const response = await fetch(`${running.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'held',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    assert.equal(response.status, 200);
    let refusedBeforeDeadline: boolean | undefined;
    const text = await streamReadThroughStop(response, () => {
      void kafka.stopBroker().then(async () => {
        running.kill('SIGTERM');
        await until(
          'a new connection to be refused',
          () =>
            fetch(`${running.baseUrl}/v1/models`).then(
              () => false,
              () => true,
            ),
          { deadlineMs: 120_000 },
        );
        refusedBeforeDeadline = !running.output().includes('"msg":"drain deadline passed');
      });
    });
    const ended = await running.exited;
    gateway = undefined;
    assert.equal(
      refusedBeforeDeadline,
      true,
      'the listener still took connections at the deadline',
    );
    assert.deepEqual(ended, { code: 0, signal: null }, running.output().slice(-3000));
    assert.ok(hasErrorEvent('openai', '/v1/chat/completions', text), text);
    assert.ok(!looksFinished('openai', '/v1/chat/completions', text), text);
    assert.match(running.output(), /"msg":"events stay in the spool; the next start replays them"/);
  });
});
