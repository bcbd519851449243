// A list that names no model, where the first route trusts x-user-id and the route holding
// the files needs a JWT: a JWT user's files, batches and Google files are kept under its
// JWT route's key, so the list reads under every key a route gives the caller; a keyless
// caller, whatever id it claims, still lists none of them, and a token the JWT route could
// not check is that route's 503, never a list silently without the caller's objects.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { JsonObject, RouterPort } from '@aigw/contracts/data-plane';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { agentAuthPolicy } from '../identity/jwt-spec-fixture';
import { IngressPipeline } from '../ingress-pipeline';
import { FilesAndBatches } from './files-and-batches';
import { MemoryHeldObjectStore, type HeldRecord } from './held-objects';
import { backendReply, HELD_TTL_MS } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';
import { BATCH_ROUTE_YAML, parsedConfig } from './testing/one-batch-route';

const ISSUER = 'https://issuer.held-list-across-routes.test';
const ALICE = 'jwt:agent-auth:sub:alice';

const OPEN_ROUTE = `kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends:
  - {name: open-local, provider: local, model: open-mini}
  userIdentification: {header: x-user-id}
`;

const router: RouterPort = {
  route: () => Promise.reject(new Error('not routed here')),
  listModels: () => [],
};

const unused = () => Promise.reject(new Error('no backend call expected'));

// The open route again, its files also held for a route whose provider's keys cannot be
// fetched: a token cannot be checked there (503 identity_provider_unavailable).
const KEYS_AWAY = `---
kind: SecurityPolicy
metadata: {name: keys-away}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: batches}]
  jwt:
    providers:
    - name: keys-away
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "http://127.0.0.1:9/jwks"}
      claimToHeaders: [{claim: sub, header: x-user-id}]
`;

describe('listing files and batches without a model, across routes', () => {
  const jwks = new LocalJwksServer();
  const apps: { close(): Promise<unknown> }[] = [];
  let token: string;
  let list: (url: string, headers: Record<string, string>) => Promise<string[]>;

  /** GET `url` of a gateway with `policy` on the batches route, alice's three objects held. */
  async function gatewayWith(policy: string) {
    const config = parsedConfig(
      `${OPEN_ROUTE}---\n${BATCH_ROUTE_YAML}  userIdentification: {header: x-user-id}\n${policy}`,
    );
    const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
    const now = Date.now();
    const aliceOwns = (record: HeldRecord): HeldRecord => ({ ...record, owner: ALICE });
    await store.put(aliceOwns(heldOnBatchRoute('file', 'f1', now, { object: {} })), HELD_TTL_MS);
    await store.put(aliceOwns(heldOnBatchRoute('batch', 'b1', now)), HELD_TTL_MS);
    await store.put(
      { ...aliceOwns(heldOnBatchRoute('file', 'g1', now)), id: 'aigw-g1', kind: 'gemini_file' },
      HELD_TTL_MS,
    );
    const held = new FilesAndBatches({
      config: () => config,
      upstream: { send: async () => backendReply({}) },
      geminiUpstream: { start: unused, step: unused, file: unused, countTokens: unused },
      store,
      ttlMs: HELD_TTL_MS,
      priceFactor: 0.5,
      publish: () => undefined,
    });
    const app = Fastify();
    held.register(app, '/v1', new IngressPipeline(() => config, router));
    apps.push(app);
    return (url: string, headers: Record<string, string>) =>
      app.inject({ method: 'GET', url, headers });
  }

  before(async () => {
    await jwks.start();
    const issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    token = await issuer.sign({ sub: 'alice' });
    const get = await gatewayWith(`---\n${agentAuthPolicy(ISSUER, jwks.url, ['batches'])}`);
    list = async (url, headers) => {
      const answer = await get(url, headers);
      assert.equal(answer.statusCode, 200, answer.body);
      const body = answer.json<{ data?: JsonObject[]; files?: JsonObject[] }>();
      return (body.data ?? body.files ?? []).map((item) => String(item.name ?? item.id));
    };
  });
  after(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await jwks.stop();
  });

  it("lists a JWT user's own files, batches and Google files", async () => {
    const bearer = { authorization: `Bearer ${token}` };
    assert.equal((await list('/v1/files', bearer)).length, 1);
    assert.equal((await list('/v1/batches', bearer)).length, 1);
    const google = { 'x-goog-api-key': token };
    assert.deepEqual(await list('/v1/files', google), ['files/aigw-g1']);
  });

  it('lists a keyless caller none of them, whatever id it claims', async () => {
    const keyless: Record<string, string>[] = [
      {},
      { 'x-user-id': 'anonymous' },
      { 'x-user-id': 'alice' },
    ];
    for (const claimed of keyless) {
      assert.deepEqual(await list('/v1/files', claimed), []);
      assert.deepEqual(await list('/v1/batches', claimed), []);
      assert.deepEqual(await list('/v1/files', { ...claimed, 'x-goog-api-key': 'k' }), []);
    }
  });

  it("answers the JWT route's 503, in OpenAI's shape, when it could not check the token", async () => {
    const get = await gatewayWith(KEYS_AWAY);
    for (const url of ['/v1/files', '/v1/batches']) {
      const answer = await get(url, { authorization: `Bearer ${token}` });
      assert.equal(answer.statusCode, 503, answer.body);
      assert.equal(
        answer.json<{ error: { code: string } }>().error.code,
        'identity_provider_unavailable',
      );
    }
    // A keyless caller's list needs no key set: the open route's, answered.
    assert.equal((await get('/v1/files', { 'x-user-id': 'bob' })).statusCode, 200);
  });
});
