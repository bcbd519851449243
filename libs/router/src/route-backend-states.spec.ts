// The router's per-route count of backends in rotation, the source of
// ai_gateway_route_backends_available: a route is down when its own backends are all out
// (cooling, drained, without their key), whatever another route sharing a name has left.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFromYaml as configFrom } from '@aigw/testing';
import type { ProviderPort } from '@aigw/contracts/data-plane';
import { BackendHealth } from './domain/backend-health';
import { FailoverRouter } from './failover-router';

// `shared` serves both routes; `keyless` names a key that is not there (skipped).
const TWO_ROUTES = configFrom(`
kind: AIGatewayRoute
metadata: {name: chat}
spec:
  backends:
  - {name: shared, priority: 0, provider: openai, model: gpt-4}
  - {name: chat-only, priority: 1, provider: openai, model: gpt-4}
---
kind: AIGatewayRoute
metadata: {name: embed}
spec:
  backends:
  - {name: shared, priority: 0, provider: openai, model: text-embedding-3-small}
  - {name: keyless, priority: 1, provider: openai, model: text-embedding-3-small, auth: {apiKeyRef: {name: missing-key}}}
`);

const noProviders = {} as ProviderPort;

describe('FailoverRouter.routeBackendStates', () => {
  it('counts per route the backends neither cooling, drained nor without their key', () => {
    let now = 1_000;
    const health = new BackendHealth(undefined, () => now);
    const router = new FailoverRouter({ config: () => TWO_ROUTES, providers: noProviders, health });
    assert.deepEqual(router.routeBackendStates(), [
      { route: 'chat', available: 2 },
      { route: 'embed', available: 1 },
    ]);

    // A Retry-After cools `shared` by name: embed has nothing left, chat still has one.
    health.recordFailure('shared', 60_000);
    assert.deepEqual(router.routeBackendStates(), [
      { route: 'chat', available: 1 },
      { route: 'embed', available: 0 },
    ]);

    health.drain('chat-only');
    assert.deepEqual(router.routeBackendStates(), [
      { route: 'chat', available: 0 },
      { route: 'embed', available: 0 },
    ]);

    now += 61_000;
    health.reset('chat-only');
    assert.deepEqual(router.routeBackendStates(), [
      { route: 'chat', available: 2 },
      { route: 'embed', available: 1 },
    ]);
  });
});
