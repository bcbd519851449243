import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdminServer } from './admin-server';
import { evaluateReadiness, type ReadinessCheck } from './readiness';

const check = (
  name: string,
  ready: boolean,
  state: string,
  scope?: ReadinessCheck['scope'],
): ReadinessCheck => ({ name, ...(scope ? { scope } : {}), check: async () => ({ ready, state }) });

test('a shared dependency down leaves the pod ready, reported as failing and not gating', async () => {
  const seen: [string, boolean][] = [];
  const readiness = await evaluateReadiness(
    { config: 'loaded' },
    [
      check('kafka', true, 'connected'),
      check('redis', false, 'reconnecting', 'shared'),
      check('router', true, 'reachable', 'shared'),
    ],
    (name, reachable) => seen.push([name, reachable]),
  );
  assert.equal(readiness.ready, true);
  assert.deepEqual(readiness.checks, {
    config: 'loaded',
    kafka: 'connected',
    redis: 'reconnecting',
    router: 'reachable',
  });
  assert.deepEqual(readiness.notGating, ['redis', 'router']);
  assert.deepEqual(readiness.failing, ['redis']);
  assert.deepEqual(seen, [
    ['redis', false],
    ['router', true],
  ]);
});

test("the pod's own condition failing takes it out of rotation (scope defaults to own)", async () => {
  const readiness = await evaluateReadiness({ config: 'loaded' }, [
    check('kafka', false, 'spool-full; Kafka unreachable', 'own'),
    check('eventLog', false, 'failing'),
    check('redis', true, 'ready', 'shared'),
  ]);
  assert.equal(readiness.ready, false);
  assert.deepEqual(readiness.failing, ['kafka', 'eventLog']);
  assert.deepEqual(readiness.notGating, ['redis']);
});

test('/readyz answers 200 with a shared dependency down, its state in the body', async () => {
  const server = new AdminServer({
    metricsContentType: 'text/plain',
    metrics: async () => '',
    ready: () =>
      evaluateReadiness({ config: 'loaded' }, [check('redis', false, 'reconnecting', 'shared')]),
  });
  const port = await server.listen(0, '127.0.0.1');
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      status: 'ready',
      checks: { config: 'loaded', redis: 'reconnecting' },
      notGating: ['redis'],
      failing: ['redis'],
    });
  } finally {
    await server.close();
  }
});

// ClickHouse's ping waits out its 30 s request timeout when the server is unresponsive: /readyz
// outlived the probe's 3 s, and every usage-sink pod left rotation over a shared dependency.
test('a check with no answer in time fails on its own, and /readyz still answers', async () => {
  const hung: ReadinessCheck = {
    name: 'clickhouse',
    scope: 'shared',
    check: () => new Promise(() => undefined),
  };
  const started = Date.now();
  const readiness = await Promise.race([
    evaluateReadiness(
      { config: 'loaded' },
      [hung, check('kafka', true, 'connected')],
      undefined,
      100,
    ),
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 1_000).unref()),
  ]);
  assert.notEqual(readiness, 'hung');
  if (readiness === 'hung') return;
  assert.ok(Date.now() - started < 1_000);
  assert.equal(readiness.ready, true, 'shared: not gating');
  assert.deepEqual(readiness.failing, ['clickhouse']);
  assert.equal(readiness.checks.clickhouse, 'no answer in 100 ms');
});

// A check that threw made /readyz an empty 500 instead of the body saying which check failed.
test('a check that throws is that check failing, not the whole answer', async () => {
  const broken: ReadinessCheck = {
    name: 'redis',
    check: () => Promise.reject(new Error('secret-bearing detail')),
  };
  const readiness = await evaluateReadiness({ config: 'loaded' }, [
    broken,
    check('kafka', true, 'connected'),
  ]);
  assert.equal(readiness.ready, false);
  assert.deepEqual(readiness.failing, ['redis']);
  assert.equal(readiness.checks.redis, 'check failed (Error)');
  assert.equal(readiness.checks.kafka, 'connected');
});
