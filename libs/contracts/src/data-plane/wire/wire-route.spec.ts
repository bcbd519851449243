// The internal hop names a backend's route (backend names are unique only within one):
// the router's call target and the adapter's servedBy carry it; a peer of an older build
// sends neither, and is still read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatewayRequest } from '../data-plane.types';
import { decodeInvokeRequest, decodeServedBy, encodeInvokeRequest } from './wire-messages';

const request: GatewayRequest = {
  requestId: 'req-1',
  operation: 'embeddings',
  requestedModel: 'text-embedding-3-small',
  stream: false,
  clientWantsStreamUsage: false,
  body: { input: 'hello' },
  caller: { userKey: 'alice' },
  allowedModels: [],
  forwardHeaders: {},
};

describe('the route on the internal hop', () => {
  it("carries the call target's route, and reads an older router's target without one", () => {
    const target = { backendName: 'openai', routeName: 'embed', provider: 'vllm', model: 'm' };
    const sent = JSON.parse(encodeInvokeRequest(request, target)) as unknown;
    assert.deepEqual(decodeInvokeRequest(sent).target, target);
    const older = { backendName: 'openai', provider: 'vllm', model: 'm' };
    const read = decodeInvokeRequest(JSON.parse(encodeInvokeRequest(request, older)) as unknown);
    assert.deepEqual(read.target, older);
    assert.throws(
      () => decodeInvokeRequest({ request, target: { ...older, routeName: 7 } }),
      /target\.routeName/,
    );
  });

  it("reads servedBy's route, and an older adapter's servedBy without one", () => {
    const served = { backend: 'openai', provider: 'vllm', model: 'm' };
    assert.deepEqual(decodeServedBy({ ...served, route: 'embed' }), { ...served, route: 'embed' });
    assert.deepEqual(decodeServedBy(served), served);
    assert.throws(() => decodeServedBy({ ...served, route: 7 }), /servedBy\.route/);
  });
});
