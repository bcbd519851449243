import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackendConfig, RouteConfig } from './gateway-config';
import { backendsForModel, canServeModel } from './model-resolution';

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
