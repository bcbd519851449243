import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { getContainerRuntimeClient, Wait } from 'testcontainers';
import { LOOPBACK, ServiceStartError, startServiceContainer } from './service-container';
import { serviceImage } from './service-images';
import { engineSkipReason, realServices, startRedis, type RealServices } from './real-services';

// The harness's own promises: a service that does not come up fails with its own last
// log lines instead of hanging, and what it starts answers on loopback. Each test starts
// containers of its own, also when the services are given by address.
const skip = engineSkipReason('containers of its own (it tests starting them)');

// All three started for this file, whatever addresses the run was given.
let own: RealServices | undefined;
before(async () => {
  if (skip) return; // a top-level hook runs even when every test is skipped
  own = await realServices({
    env: { ...process.env, REDIS_URL: '', KAFKA_BROKERS: '', CLICKHOUSE_URL: '' },
  });
});
after(async () => {
  await own?.stop();
});

test('every started container publishes its ports on 127.0.0.1 only', { skip }, async () => {
  const client = await getContainerRuntimeClient();
  assert.deepEqual(own!.services.map((s) => s.service).sort(), ['clickhouse', 'kafka', 'redis']);
  for (const service of own!.services) {
    const name = service.service;
    assert.equal(service.external, false, `${name}: started, not given`);
    assert.ok(service.containerId, `${name}: the container's id is known`);
    const info = await client.container.inspect(client.container.getById(service.containerId));
    // What the engine actually bound, not what was asked for.
    const published = Object.entries(info.NetworkSettings.Ports ?? {}).flatMap(([port, bindings]) =>
      (bindings ?? []).map((b) => ({ port, ...b })),
    );
    assert.ok(published.length > 0, `${name}: publishes a port`);
    for (const { port, HostIp, HostPort } of published) {
      assert.equal(HostIp, LOOPBACK, `${name}: ${port} is published on ${HostIp}:${HostPort}`);
    }
    assert.ok(
      published.some((b) => service.url.endsWith(`${LOOPBACK}:${b.HostPort}`)),
      `${name}: ${service.url} is one of its published ports`,
    );
  }
});

test('the servers run the versions we support', { skip }, async (t) => {
  const clickhouse = own!.services.find((s) => s.service === 'clickhouse')!;
  const answer = await fetch(`${clickhouse.url}/?query=${encodeURIComponent('SELECT version()')}`);
  assert.equal(answer.status, 200);
  const version = (await answer.text()).trim();
  t.diagnostic(`ClickHouse ${version} (${serviceImage('clickhouse').image})`);
  if (serviceImage('clickhouse').flavor === 'aigw') {
    // Our image is Debian's package, the oldest version the schema must work on.
    assert.match(version, /^18\.16\./);
  } else {
    assert.match(version, /^\d+\.\d+\./);
  }

  // The broker logs its version at start (AppInfoParser), in our image and the official one.
  const kafka = own!.services.find((s) => s.service === 'kafka')!;
  const client = await getContainerRuntimeClient();
  const logs = await client.container
    .getById(kafka.containerId!)
    .logs({ stdout: true, stderr: true, follow: false });
  const kafkaVersion = /Kafka version: (\S+)/.exec(logs.toString('utf8'))?.[1];
  t.diagnostic(
    `Kafka ${kafkaVersion ?? 'version not in its log'} (${serviceImage('kafka').image})`,
  );
});

test(
  'a service that is not ready in time fails with its own last log lines',
  { skip },
  async () => {
    const { image, flavor } = serviceImage('redis');
    const started = Date.now();
    await assert.rejects(
      startServiceContainer({
        service: 'redis',
        image,
        ...(flavor === 'aigw' ? { command: ['aigw-redis'] } : {}),
        ports: [6379],
        // Readiness that never comes, so the deadline ends the start whatever the machine's
        // load; Redis prints its banner at once, long before the deadline.
        wait: Wait.forLogMessage(/a line Redis never prints/),
        timeoutMs: 5_000,
      }),
      (error: unknown) => {
        assert.ok(error instanceof ServiceStartError, String(error));
        assert.equal(error.service, 'redis');
        assert.match(error.message, /did not become ready/);
        assert.match(error.message, /last redis log lines/);
        // Redis's own start-up lines, not the engine's or the harness's.
        assert.match(error.logs, /Redis is starting|Redis version=/);
        assert.ok(error.message.includes(error.logs), 'the message carries the log lines');
        return true;
      },
    );
    assert.ok(Date.now() - started < 30_000, 'gave up promptly');
  },
);

test('a started Redis answers PING on 127.0.0.1', { skip }, async () => {
  const redis = await startRedis({ env: { ...process.env, REDIS_URL: '' } });
  try {
    const url = new URL(redis.url);
    assert.equal(url.hostname, '127.0.0.1');
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), '127.0.0.1', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        resolve(data.toString());
        socket.end();
      });
      socket.once('error', reject);
    });
    assert.equal(reply, '+PONG\r\n');
  } finally {
    await redis.stop();
  }
});
