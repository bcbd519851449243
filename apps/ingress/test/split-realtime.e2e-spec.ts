// OpenAI's Realtime API in the split deployment: the client's WebSocket reaches the
// ingress, which identifies and admits it, then pipes it to the router (which picks the
// backend and names the client's model in session events), which pipes it to the
// provider-adapter (which adds the backend's key and meters each response.done). Frames
// cross both hops unchanged otherwise; refusals at any hop come back as the HTTP error
// chat would get, before any upgrade; a backend closing closes the client with an error.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidSettingError } from '@aigw/config';
import { eventually } from '@aigw/testing';
import {
  connectRealtime,
  FAKE_REALTIME_USAGE,
  FakeRealtimeUpstream,
  realtimeRefusal,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { bootstrapIngress } from '../src/ingress-bootstrap';
import { adapterUsageEvents } from './adapter-usage-events';

describe('split deployment: /v1/realtime across the internal hops', () => {
  const backend = new FakeRealtimeUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-realtime-'));
  let services: AppProcess[] = [];
  let wsBase: string;
  const headers = { 'x-user-id': 'split-talker', authorization: 'Bearer sk-client-secret' };

  before(async () => {
    await backend.start();
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-realtime}
spec:
  backends:
  - {name: openai-rt, provider: openai, baseUrl: "${backend.baseUrl}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-realtime, modelNameOverride: voice}
  - {name: chat-only, provider: anthropic, baseUrl: "${backend.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: claude-sonnet-4-5}
  userIdentification: {header: x-user-id}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
  security:
    promptValidation:
      redact: {detectors: [email]}
`,
    );
    const shared = { AI_GATEWAY_CONFIG: path };
    const adapter = await startApp('provider-adapter', {
      ...shared,
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend-openai',
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
    });
    const router = await startApp('router', {
      ...shared,
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    const ingress = await startApp('ingress', {
      ...shared,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    services = [ingress, router, adapter];
    wsBase = ingress.baseUrl.replace(/^http/, 'ws');
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await backend.stop();
  });

  beforeEach(() => backend.reset());

  it('pipes a session through router and adapter: renamed, keyed by the adapter, metered there', async () => {
    const client = await connectRealtime(`${wsBase}/v1/realtime?model=voice`, headers);
    const created = await client.next('session.created');
    assert.equal((created.session as { model: string }).model, 'voice');
    client.socket.send(JSON.stringify({ type: 'session.update', session: { model: 'voice' } }));
    assert.equal(
      ((await client.next('session.updated')).session as { model: string }).model,
      'voice',
    );
    client.socket.send(Buffer.from([9, 8, 7]));
    assert.equal((await client.next('test.binary')).bytes, 3, 'binary frames cross both hops');
    client.socket.send(JSON.stringify({ type: 'response.create' }));
    const done = await client.next('response.done');
    assert.deepEqual((done.response as { usage: unknown }).usage, FAKE_REALTIME_USAGE);
    assert.equal(
      client.events.find((e) => e.type === 'response.output_audio.delta')?.delta,
      'AAAA/w==',
    );
    client.socket.close();
    await client.closed;

    const [upgrade] = backend.upgrades;
    assert.equal(upgrade.url, '/v1/realtime?model=gpt-realtime');
    assert.equal(upgrade.headers.authorization, 'Bearer sk-backend-openai');
    assert.ok(!JSON.stringify(upgrade.headers).includes('sk-client-secret'));
    assert.equal((backend.received[0].session as { model: string }).model, 'gpt-realtime');

    const [event] = await adapterUsageEvents(dir, 1);
    assert.equal(event.operation, 'realtime');
    assert.equal(event.userId, 'split-talker');
    assert.equal(event.modelRequested, 'voice');
    assert.equal(event.modelServed, 'gpt-realtime');
    assert.equal(event.inputTokens, 1000);
    assert.equal(event.outputTokens, 500);
    // gpt-realtime from the catalog: 320 text, 580 audio, 100 cached in; 100 text, 400 audio out.
    const dollars = (320 * 4 + 580 * 32 + 100 * 0.4 + 100 * 16 + 400 * 64) / 1_000_000;
    assert.ok(Math.abs((event.costDollars as number) - dollars) < 1e-12, String(event.costDollars));
  });

  it('bills a response the client hung up on mid-answer: the adapter cancels it and meters its response.done', async () => {
    backend.holdResponses = true;
    const user = { ...headers, 'x-user-id': 'split-hang-up' };
    const client = await connectRealtime(`${wsBase}/v1/realtime?model=voice`, user);
    await client.next('session.created');
    client.socket.send(JSON.stringify({ type: 'response.create' }));
    await client.next('response.output_audio_transcript.delta');
    client.socket.close();
    await client.closed;

    const billed = await eventually('its usage is metered', async () => {
      const events = (await adapterUsageEvents(dir, 0)).filter((e) => e.userId === 'split-hang-up');
      return events.length > 0 ? events : undefined;
    });
    assert.deepEqual(
      billed.map((event) => [event.operation, event.inputTokens, event.outputTokens]),
      [['realtime', 1000, 500]],
    );
    assert.deepEqual(
      backend.received.map((event) => event.type),
      ['response.create', 'response.cancel'],
    );
  });

  it('masks a redact detector in a text item at the ingress, so the backend never sees it', async () => {
    const client = await connectRealtime(`${wsBase}/v1/realtime?model=voice`, headers);
    await client.next('session.created');
    const item = (text: string) => ({
      type: 'conversation.item.create',
      event_id: 'evt_mail',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
    });
    client.socket.send(JSON.stringify(item('write to jane.doe@example.com')));
    client.socket.send(JSON.stringify({ type: 'response.create' }));
    await client.next('response.done');
    client.socket.close();
    await client.closed;
    assert.deepEqual(backend.received, [
      item('write to [REDACTED:email]'),
      { type: 'response.create' },
    ]);
  });

  it('answers refusals from the router and the backend as HTTP errors before the upgrade', async () => {
    const unknown = await realtimeRefusal(`${wsBase}/v1/realtime?model=nope`, headers);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'model_not_found');
    const chatOnly = await realtimeRefusal(
      `${wsBase}/v1/realtime?model=claude-sonnet-4-5`,
      headers,
    );
    assert.equal(chatOnly.status, 400);
    assert.equal(chatOnly.body.error.param, 'model');
    backend.refuseWith = 401;
    const refused = await realtimeRefusal(`${wsBase}/v1/realtime?model=voice`, headers);
    assert.equal(refused.status, 502);
    assert.equal(refused.body.error.type, 'upstream_error');
    assert.ok(!JSON.stringify(refused.body).includes('sk-backend-openai'));
  });

  it('closes the client with an error event when the backend closes', async () => {
    const client = await connectRealtime(`${wsBase}/v1/realtime?model=voice`, headers);
    await client.next('session.created');
    client.socket.send(JSON.stringify({ type: 'test.close' }));
    const error = await client.next('error');
    assert.equal((error.error as { code: string }).code, 'upstream_closed');
    assert.equal((await client.closed).code, 1011);
  });

  it('refuses to start with a bad AI_GATEWAY_REALTIME_HOP_HANDSHAKE_MS, naming it', async () => {
    await assert.rejects(
      bootstrapIngress({
        ROUTER_URL: 'http://127.0.0.1:9',
        AI_GATEWAY_DATA_DIR: join(dir, 'refused'),
        AI_GATEWAY_REALTIME_HOP_HANDSHAKE_MS: '60s',
      }),
      new InvalidSettingError(
        'AI_GATEWAY_REALTIME_HOP_HANDSHAKE_MS must be a positive whole number, got "60s"',
      ),
    );
  });
});
