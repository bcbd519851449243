// Files and batches in the split deployment when two routes each name a backend `openai`,
// on their own upstreams with their own keys (two tenants): each held object's calls (the
// upload, the batch's create and looks, the output's read) name the object's route on
// both hops, so the provider-adapter calls that route's backend with that route's key,
// never the other tenant's. Fails when the adapter finds the backend by its name alone
// (whichever route that picks, the other route's calls go to the wrong upstream).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { FAKE_BATCH_MODEL, FakeBatchBackend } from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

/** Each route: its virtual model, its upstream and its key. */
const ROUTES = [
  { name: 'alpha', model: 'gpt-batch-alpha', key: 'sk-alpha-tenant' },
  { name: 'beta', model: 'gpt-batch-beta', key: 'sk-beta-tenant' },
] as const;

describe('split deployment: files and batches of a backend name two routes share', () => {
  const backends = ROUTES.map(() => new FakeBatchBackend());
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-shared-held-'));
  const services: AppProcess[] = [];
  let ingressUrl = '';

  before(async () => {
    for (const backend of backends) await backend.start();
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      ROUTES.map(
        (route, at) => `kind: AIGatewayRoute
metadata: {name: ${route.name}}
spec:
  backends:
  - {name: openai, provider: openai, baseUrl: "${backends[at].baseUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: ${route.model}, auth: {apiKeyRef: {name: ${route.name}-key}}}
  userIdentification: {header: x-user-id}
`,
      ).join('---\n'),
    );
    // The backends' keys: the provider-adapter's alone.
    const { ingress } = await startSplitDataPlane({ AI_GATEWAY_CONFIG: path }, dir, services, {
      AI_GATEWAY_SECRET_ALPHA_KEY_APIKEY: ROUTES[0].key,
      AI_GATEWAY_SECRET_BETA_KEY_APIKEY: ROUTES[1].key,
    });
    ingressUrl = ingress.baseUrl;
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    for (const backend of backends) await backend.stop();
  });

  it("calls each route's upstream with that route's key for its files and batches", async () => {
    for (const [at, route] of ROUTES.entries()) {
      const client = new OpenAI({
        baseURL: `${ingressUrl}/v1`,
        apiKey: 'sk-client-alice',
        maxRetries: 0,
        defaultHeaders: { 'x-user-id': 'alice', 'x-ai-gateway-model': route.model },
      });
      const line = JSON.stringify({
        custom_id: route.name,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: route.model, messages: [{ role: 'user', content: route.name }] },
      });
      const file = await client.files.create({
        file: await toFile(Buffer.from(`${line}\n`), `${route.name}.jsonl`),
        purpose: 'batch',
      });
      const batch = await client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
      const done = await client.batches.retrieve(batch.id);
      assert.equal(done.status, 'completed', route.name);
      const output = await (await client.files.content(done.output_file_id!)).text();
      assert.ok(output.includes(`"custom_id":"${route.name}"`), output);

      const own = backends[at];
      // Its upload, the batch's create and look, and the output's read: at its own upstream.
      assert.ok(own.calls.length >= 4, `${route.name}: ${own.calls.length} calls`);
      assert.ok([...own.files.values()].some((held) => held.content.includes(route.name)));
      for (const call of own.calls) {
        assert.equal(call.authorization, `Bearer ${route.key}`, `${call.method} ${call.path}`);
      }
    }
    // Neither upstream saw the other tenant's object or key.
    for (const [at, backend] of backends.entries()) {
      const other = ROUTES[1 - at];
      assert.ok(
        ![...backend.files.values()].some((held) =>
          held.content.includes(`"custom_id":"${other.name}"`),
        ),
      );
      assert.ok(backend.calls.every((call) => call.authorization !== `Bearer ${other.key}`));
    }
  });
});
