// AI_GATEWAY_INTERNAL_TOKEN on the split deployment: with the same token on ingress,
// router and provider-adapter, calls (HTTP and Realtime) pass every hop; anyone else who
// reaches the router's or provider-adapter's port gets a 401 and no backend is called, and a
// client's own x-aigw-internal-token never crosses the ingress.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import WebSocket from 'ws';
import {
  encodeInvokeRequest,
  encodeRouteRequest,
  WIRE_PATHS,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import { metricSum } from '@aigw/testing';
import {
  connectRealtime,
  FakeBatchBackend,
  FakeOpenAiUpstream,
  FakeRealtimeUpstream,
} from '@aigw/testing/fake-provider';
import { writeInternalHopConfig } from './internal-hop-config';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

const TOKEN = 'e2e-internal-token-5f0c1a9b7d3e';
const FORGED = 'forged-by-a-client-0123456789';
const HEADER = 'x-aigw-internal-token';

/** A chat request as a hop carries it, naming a caller nobody authenticated. */
const mallory: GatewayRequest = {
  requestId: 'direct-1',
  operation: 'chat',
  requestedModel: 'gpt-4',
  stream: false,
  clientWantsStreamUsage: false,
  body: { model: 'gpt-4', messages: [{ role: 'user', content: 'free tokens please' }] },
  caller: { userKey: 'someone-with-budget' },
  allowedModels: [],
  forwardHeaders: {},
};

describe('split deployment with AI_GATEWAY_INTERNAL_TOKEN on every hop', () => {
  const chat = new FakeOpenAiUpstream('chat');
  const realtime = new FakeRealtimeUpstream();
  const batches = new FakeBatchBackend();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-auth-'));
  let adapter: AppProcess;
  let router: AppProcess;
  let ingress: AppProcess;
  /** Every process up so far, so teardown stops them even when a later start fails. */
  const dataPlane: AppProcess[] = [];

  before(async () => {
    await Promise.all([chat.start(), realtime.start(), batches.start()]);
    const path = writeInternalHopConfig(dir, 'split-auth', { chat, realtime, batches });
    const shared = { AI_GATEWAY_CONFIG: path, AI_GATEWAY_INTERNAL_TOKEN: TOKEN };
    ({ adapter, router, ingress } = await startSplitDataPlane(shared, dir, dataPlane, {
      AI_GATEWAY_SECRET_CHAT_KEY_APIKEY: 'sk-backend-key',
    }));
  });

  after(async () => {
    await Promise.all(dataPlane.map((app) => app.stop()));
    await Promise.all([chat.stop(), realtime.stop(), batches.stop()]);
  });

  beforeEach(() => {
    chat.reset();
    realtime.reset();
  });

  const refusals = async (service: AppProcess, name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${service.adminPort}/metrics`)).text();
    return metricSum(text, 'ai_gateway_internal_auth_failures_total', { service: name });
  };

  const wirePost = (base: string, path: string, body: string, headers = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [WIRE_VERSION_HEADER]: WIRE_VERSION,
        ...headers,
      },
      body,
    });

  it('answers through all three hops; a client’s own x-aigw-internal-token is not forwarded', async () => {
    const before =
      (await refusals(router, 'router')) + (await refusals(adapter, 'provider-adapter'));
    const response = await fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer sk-client',
        'x-user-id': 'alice',
        [HEADER]: FORGED,
      },
      body: JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const body = (await response.json()) as { model: string };
    assert.equal(body.model, 'gpt-4');
    assert.equal(chat.calls.length, 1);
    assert.equal(
      chat.calls[0].headers[HEADER],
      undefined,
      'the client’s header stops at the ingress',
    );
    assert.equal(chat.calls[0].headers.authorization, 'Bearer sk-backend-key');
    // The hops took the ingress's and router's own token, not the forged one: none refused.
    const afterCount =
      (await refusals(router, 'router')) + (await refusals(adapter, 'provider-adapter'));
    assert.equal(afterCount, before);
  });

  it('pipes a Realtime session through both hops with the token', async () => {
    const client = await connectRealtime(
      `${ingress.baseUrl.replace(/^http/, 'ws')}/v1/realtime?model=voice`,
      {
        'x-user-id': 'alice',
        authorization: 'Bearer sk-client',
        [HEADER]: FORGED,
      },
    );
    const created = await client.next('session.created');
    assert.equal((created.session as { model: string }).model, 'voice');
    client.socket.close();
    await client.closed;
    assert.equal(realtime.upgrades.length, 1);
    assert.equal(realtime.upgrades[0].headers[HEADER], undefined);
  });

  it('relays a file upload through both hops with the token', async () => {
    const client = new OpenAI({
      baseURL: `${ingress.baseUrl}/v1`,
      apiKey: 'sk-client',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': 'alice', 'x-ai-gateway-model': 'gpt-batch' },
    });
    const file = await client.files.create({
      file: await toFile(Buffer.from('{"hello":"world"}\n'), 'notes.jsonl'),
      purpose: 'user_data',
    });
    assert.match(file.id, /^file-aigw_/);
    assert.equal(batches.files.size, 1);
  });

  it('refuses a direct call to the router without the token (401), calling no backend', async () => {
    const before = await refusals(router, 'router');
    for (const headers of [{}, { [HEADER]: FORGED }]) {
      const response = await wirePost(
        router.baseUrl,
        WIRE_PATHS.route,
        encodeRouteRequest(mallory),
        headers,
      );
      assert.equal(response.status, 401);
      const body = (await response.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'AUTH.UNAUTHENTICATED');
    }
    assert.equal(chat.calls.length, 0);
    assert.equal((await refusals(router, 'router')) - before, 2);
    const text = await (await fetch(`http://127.0.0.1:${router.adminPort}/metrics`)).text();
    assert.ok(
      metricSum(text, 'ai_gateway_internal_auth_failures_total', { reason: 'missing' }) >= 1,
    );
    assert.ok(metricSum(text, 'ai_gateway_internal_auth_failures_total', { reason: 'wrong' }) >= 1);
  });

  it('refuses a direct call to the provider-adapter without the token (401), adding no key', async () => {
    const invoke = encodeInvokeRequest(mallory, {
      backendName: 'chat',
      provider: 'vllm',
      model: 'chat-model',
    });
    const response = await wirePost(adapter.baseUrl, WIRE_PATHS.invoke, invoke);
    assert.equal(response.status, 401);
    // The held-object calls too, the streamed file content among them.
    for (const path of ['/wire/held-object', '/wire/held-object/open']) {
      const held = await wirePost(
        adapter.baseUrl,
        path,
        JSON.stringify({ backendName: 'chat', provider: 'openai', method: 'GET', path: '/files' }),
      );
      assert.equal(held.status, 401, path);
    }
    assert.equal(chat.calls.length, 0);
    assert.ok((await refusals(adapter, 'provider-adapter')) >= 3);
  });

  it('refuses a direct Realtime upgrade at the router or the adapter without the token', async () => {
    const message = Buffer.from(
      encodeRouteRequest({ ...mallory, operation: 'realtime', requestedModel: 'voice' }),
    ).toString('base64url');
    for (const service of [router, adapter]) {
      const socket = new WebSocket(`${service.baseUrl.replace(/^http/, 'ws')}/wire/realtime`, {
        headers: { [WIRE_VERSION_HEADER]: WIRE_VERSION, 'x-aigw-wire-message': message },
      });
      const status = await new Promise<number>((resolve, reject) => {
        socket.once('unexpected-response', (_request, response) =>
          resolve(response.statusCode ?? 0),
        );
        socket.once('open', () => resolve(101));
        socket.once('error', reject);
      });
      socket.terminate();
      assert.equal(status, 401);
    }
    assert.equal(realtime.upgrades.length, 0);
  });

  it('keeps health and metrics open, logs refusals, and never prints the token', async () => {
    const health = await fetch(`${router.baseUrl}${WIRE_PATHS.health}`, {
      headers: { [WIRE_VERSION_HEADER]: WIRE_VERSION },
    });
    assert.equal(health.status, 200);
    assert.match(router.output(), /refused an internal call without the right token/);
    for (const service of [ingress, router, adapter]) {
      const output = service.output();
      assert.ok(!output.includes(TOKEN), 'the token is never logged');
      assert.ok(!output.includes(FORGED), 'nor a token that was sent');
      assert.doesNotMatch(output, /AI_GATEWAY_INTERNAL_TOKEN is not set/);
    }
  });
});
