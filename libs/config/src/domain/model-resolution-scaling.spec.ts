// Indexing a route's backends by model reads each backend a fixed number of times, however
// many models the route names: counted, not timed (a route of N single-model backends
// took N x N reads before).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackendConfig, RouteConfig } from './gateway-config';
import { backendsForModel, unresolvedFallbackModels } from './model-resolution';

/** A route of `count` backends, each its own model (every third a wildcard), reads counted. */
function countedRoute(count: number): { route: RouteConfig; reads: () => number } {
  let reads = 0;
  const backends = Array.from({ length: count }, (_, index) => {
    const model = index % 3 === 2 ? undefined : `model-${index}`;
    const backend = { name: `b-${index}`, priority: index };
    Object.defineProperty(backend, 'virtualModel', {
      enumerable: true,
      get: () => {
        reads += 1;
        return model;
      },
    });
    return backend as unknown as BackendConfig;
  });
  const route = { name: 'r', backends, retry: { fallbackOrder: ['model-0'] } };
  return { route: route as unknown as RouteConfig, reads: () => reads };
}

describe('backendsForModel on a large route', () => {
  for (const count of [300, 600]) {
    it(`reads each of ${count} backends' model a fixed number of times`, () => {
      const { route, reads } = countedRoute(count);
      // What the loader asks (a route with retry.fallbackOrder), then requests for models.
      assert.deepEqual(unresolvedFallbackModels(route), []);
      for (let index = 0; index < count; index += 7) backendsForModel(route, `model-${index}`);
      assert.ok(reads() <= 2 * count, `${reads()} reads of virtualModel for ${count} backends`);
    });
  }

  it('still answers each model with its own backends and the wildcards, in route order', () => {
    const { route } = countedRoute(9);
    assert.deepEqual(
      backendsForModel(route, 'model-4').map((b) => b.name),
      ['b-2', 'b-4', 'b-5', 'b-8'],
    );
    assert.deepEqual(
      backendsForModel(route, 'unknown').map((b) => b.name),
      ['b-2', 'b-5', 'b-8'],
    );
  });
});
