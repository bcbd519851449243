// Realtime client secrets in the split deployment: the ingress mints them
// (POST /v1/realtime/client_secrets) and takes them on the WebSocket it pipes to the router
// and provider-adapter; the session acts as the caller that minted the secret, with the
// minted configuration applied, and the adapter meters it under that caller.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectRealtime,
  FakeRealtimeUpstream,
  realtimeRefusal,
} from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';
import { adapterUsageEvents } from './adapter-usage-events';

describe('split deployment: realtime client secrets at the ingress', () => {
  const backend = new FakeRealtimeUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-secrets-'));
  const services: AppProcess[] = [];
  let ingress: AppProcess;
  let wsBase: string;

  before(async () => {
    await backend.start();
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-secrets}
spec:
  backends:
  - {name: openai-rt, provider: openai, baseUrl: "${backend.baseUrl}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-realtime, modelNameOverride: voice}
  - {name: openai-rt-mini, provider: openai, baseUrl: "${backend.baseUrl}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-realtime-mini, modelNameOverride: voice-mini}
  userIdentification: {header: x-user-id}
`,
    );
    ({ ingress } = await startSplitDataPlane({ AI_GATEWAY_CONFIG: path }, dir, services, {
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend-openai',
    }));
    wsBase = ingress.baseUrl.replace(/^http/, 'ws');
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await backend.stop();
  });

  beforeEach(() => backend.reset());

  it('mints a secret whose session crosses both hops as its caller, configured as minted', async () => {
    const answer = await fetch(`${ingress.baseUrl}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'split-minter' },
      body: JSON.stringify({ session: { model: 'voice', instructions: 'Be brief' } }),
    });
    assert.equal(answer.status, 200);
    const secret = (await answer.json()) as { value: string; expires_at: number };
    assert.match(secret.value, /^ek_/);
    assert.ok(secret.expires_at > Date.now() / 1000 + 590);

    const client = await connectRealtime(`${wsBase}/v1/realtime?model=voice`, {}, [
      'realtime',
      `openai-insecure-api-key.${secret.value}`,
    ]);
    const updated = await client.next('session.updated');
    assert.equal((updated.session as { model: string }).model, 'voice');
    client.socket.send(JSON.stringify({ type: 'response.create' }));
    await client.next('response.done');
    client.socket.close();
    await client.closed;

    assert.deepEqual(backend.received[0], {
      type: 'session.update',
      session: { type: 'realtime', model: 'gpt-realtime', instructions: 'Be brief' },
    });
    const [upgrade] = backend.upgrades;
    assert.equal(upgrade.headers.authorization, 'Bearer sk-backend-openai');
    assert.ok(!JSON.stringify(upgrade.headers).includes(secret.value));
    const [event] = await adapterUsageEvents(dir, 1);
    assert.equal(event.userId, 'split-minter');
    assert.equal(event.modelServed, 'gpt-realtime');

    const other = await realtimeRefusal(`${wsBase}/v1/realtime?model=voice-mini`, {
      authorization: `Bearer ${secret.value}`,
    });
    assert.equal(other.status, 401);
    assert.equal(other.body.error.type, 'authentication_error');
    const unknown = await realtimeRefusal(`${wsBase}/v1/realtime?model=voice`, {
      authorization: 'Bearer ek_unknown',
    });
    assert.equal(unknown.status, 401);
    assert.equal(backend.upgrades.length, 1);
    for (const service of services) assert.ok(!service.output().includes(secret.value.slice(3)));
  });
});
