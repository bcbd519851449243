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
