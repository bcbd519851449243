// A list keeps a record only where its own route identifies the caller as its owner. A
// route that refuses the caller there means "not yours": the list is answered, so no
// identity refusal is counted; the list's own route refusing the caller still is.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { DataPlaneError, JsonObject, RouterPort } from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';
import { FilesAndBatches } from './files-and-batches';
import { MemoryHeldObjectStore } from './held-objects';
import { backendReply, HELD_TTL_MS } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';
import { BATCH_ROUTE_YAML, parsedConfig } from './testing/one-batch-route';

// Both routes key users by x-user-id (one way: alice is alice on each); only `batches`
// has tiers, with no default, so a caller without x-user-plan has none there.
const CONFIG = parsedConfig(`${BATCH_ROUTE_YAML}  userIdentification: {header: x-user-id}
  userTiers:
  - {name: pro, selector: {header: x-user-plan, value: pro}, tokenBudget: {daily: 1000}}
---
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends:
  - {name: open-local, provider: local, model: open-mini}
  userIdentification: {header: x-user-id}
`);

const router: RouterPort = {
  route: () => Promise.reject(new Error('not routed here')),
  listModels: () => [],
};

describe('listing files and batches: identity refusals', () => {
  const apps: { close(): Promise<unknown> }[] = [];
  after(() => Promise.all(apps.map((app) => app.close())));

  async function gateway() {
    const refused: string[] = [];
    const pipeline = new IngressPipeline(() => CONFIG, router, {
      onRefusal: (error: DataPlaneError) => refused.push(`${error.httpStatus}`),
    });
    const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
    await store.put(
      heldOnBatchRoute('file', 'f1', Date.now(), { object: { object: 'file', purpose: 'batch' } }),
      HELD_TTL_MS,
    );
    const held = new FilesAndBatches({
      config: () => CONFIG,
      upstream: { send: async () => backendReply({}) },
      store,
      ttlMs: HELD_TTL_MS,
      priceFactor: 0.5,
      publish: () => undefined,
    });
    const app = Fastify();
    held.register(app, '/v1', pipeline);
    apps.push(app);
    const list = async (headers: Record<string, string>) => {
      const answer = await app.inject({ method: 'GET', url: '/v1/files', headers });
      return { status: answer.statusCode, files: answer.json<{ data?: JsonObject[] }>().data };
    };
    return { refused, list };
  }

  it('counts none for a record whose route refuses the caller, which is left out', async () => {
    const { refused, list } = await gateway();
    const listed = await list({ 'x-user-id': 'alice', 'x-ai-gateway-model': 'open-mini' });
    assert.deepEqual(listed, { status: 200, files: [] });
    assert.deepEqual(refused, []);

    const pro = await list({
      'x-user-id': 'alice',
      'x-user-plan': 'pro',
      'x-ai-gateway-model': 'open-mini',
    });
    assert.equal(pro.files?.length, 1, 'identified on its route, the file is hers');
    assert.deepEqual(refused, []);
  });

  it("counts the list's own route refusing the caller", async () => {
    const { refused, list } = await gateway();
    const listed = await list({ 'x-user-id': 'alice', 'x-ai-gateway-model': 'gpt-batch' });
    assert.equal(listed.status, 403);
    assert.deepEqual(refused, ['403']);
  });
});
