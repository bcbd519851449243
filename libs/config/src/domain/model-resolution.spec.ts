import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackendConfig, GatewayConfig, RouteConfig } from './gateway-config';
import { backendsForModel, canServeModel, routeForModel } from './model-resolution';

const backend = (name: string, virtualModel?: string, priority = 0): BackendConfig =>
  ({
    name,
    provider: 'openai',
    model: virtualModel,
    virtualModel,
    priority,
    auth: { kind: 'none' },
    requestTimeoutMs: 1_000,
    firstByteTimeoutMs: 1_000,
  }) as unknown as BackendConfig;

const route = (...backends: BackendConfig[]): RouteConfig =>
  ({ name: 'r', backends }) as unknown as RouteConfig;

const names = (backends: readonly BackendConfig[]) => backends.map((b) => b.name);

describe('backendsForModel', () => {
  it('the backends naming the model and the wildcard ones, by priority', () => {
    const r = route(
      backend('a', 'gpt-4', 0),
      backend('any', undefined, 1),
      backend('b', 'claude', 2),
    );
    assert.deepEqual(names(backendsForModel(r, 'gpt-4')), ['a', 'any']);
    assert.deepEqual(names(backendsForModel(r, 'claude')), ['any', 'b']);
    assert.deepEqual(names(backendsForModel(r, 'other')), ['any']);
    assert.equal(canServeModel(route(backend('a', 'gpt-4')), 'other'), false);
  });

  it('answers the same route and model with the same frozen array', () => {
    const r = route(backend('a', 'gpt-4'), backend('any'));
    const first = backendsForModel(r, 'gpt-4');
    assert.equal(backendsForModel(r, 'gpt-4'), first);
    assert.ok(Object.isFrozen(first));
    // Model names no backend names share the wildcard answer: clients cannot grow the cache.
    assert.equal(backendsForModel(r, 'x'), backendsForModel(r, 'y'));
  });

  it('answers afresh for a new route object (a config reload)', () => {
    const before = route(backend('a', 'gpt-4'));
    assert.deepEqual(names(backendsForModel(before, 'gpt-4')), ['a']);
    const reloaded = route(backend('b', 'gpt-4'), backend('any'));
    assert.deepEqual(names(backendsForModel(reloaded, 'gpt-4')), ['b', 'any']);
    assert.deepEqual(names(backendsForModel(reloaded, 'other')), ['any']);
    assert.deepEqual(names(backendsForModel(before, 'gpt-4')), ['a']);
  });
});

describe('routeForModel', () => {
  const named = (name: string, ...backends: BackendConfig[]): RouteConfig =>
    ({ name, backends }) as unknown as RouteConfig;
  const config = (...routes: RouteConfig[]): GatewayConfig =>
    ({ routes }) as unknown as GatewayConfig;

  it('prefers the first route naming the model, else the first with a wildcard backend', () => {
    const catchAll = named('catch-all', backend('any'));
    const first = named('first', backend('a', 'gpt-4'));
    const second = named('second', backend('b', 'gpt-4'), backend('c', 'claude'));
    const c = config(catchAll, first, second);
    assert.equal(routeForModel(c, 'gpt-4'), first);
    assert.equal(routeForModel(c, 'claude'), second);
    assert.equal(routeForModel(c, 'other'), catchAll);
    assert.equal(routeForModel(config(first), 'other'), undefined);
  });

  it('answers a new config object (a reload) from that config', () => {
    const before = named('before', backend('a', 'gpt-4'));
    const after = named('after', backend('b', 'gpt-4'));
    assert.equal(routeForModel(config(before), 'gpt-4'), before);
    assert.equal(routeForModel(config(after), 'gpt-4'), after);
  });
});
