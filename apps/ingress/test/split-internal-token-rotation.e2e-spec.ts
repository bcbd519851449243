// Rotating AI_GATEWAY_INTERNAL_TOKEN without downtime: mid-rotation the router and the
// provider-adapter hold TOKEN=new PREVIOUS=old, and an ingress (or router) not yet restarted
// still sends the old token. Both tokens pass every hop (HTTP, the Realtime WebSocket, the
// files relay), any other token is still a 401, and the calls that sent the old one are
// counted, so the operator knows when PREVIOUS can go.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
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
import { runAppToExit, startApp, type AppProcess } from '@aigw/testing/processes';

const OLD = 'e2e-old-internal-token-1b2c3d4e5f';
const NEW = 'e2e-new-internal-token-9a8b7c6d5e';
const WRONG = 'e2e-wrong-internal-token-000000';
const HEADER = 'x-aigw-internal-token';

const direct: GatewayRequest = {
  requestId: 'direct-rotation',
  operation: 'chat',
  requestedModel: 'gpt-4',
  stream: false,
  clientWantsStreamUsage: false,
  body: { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] },
  caller: { userKey: 'alice' },
  allowedModels: [],
  forwardHeaders: {},
};

describe('split deployment mid-rotation of AI_GATEWAY_INTERNAL_TOKEN', () => {
  const chat = new FakeOpenAiUpstream('chat');
  const realtime = new FakeRealtimeUpstream();
  const batches = new FakeBatchBackend();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-rotation-'));
  let adapter: AppProcess;
  let router: AppProcess;
  /** Not yet restarted: still sends the old token. */
  let oldIngress: AppProcess;
  /** Restarted: sends the new one. */
  let newIngress: AppProcess;

  before(async () => {
    await Promise.all([chat.start(), realtime.start(), batches.start()]);
    const path = writeInternalHopConfig(dir, 'split-rotation', { chat, realtime, batches });
    const rotating = {
      AI_GATEWAY_CONFIG: path,
      AI_GATEWAY_INTERNAL_TOKEN: NEW,
      AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS: OLD,
    };
    adapter = await startApp('provider-adapter', {
      ...rotating,
      AI_GATEWAY_SECRET_CHAT_KEY_APIKEY: 'sk-backend-key',
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
    });
    router = await startApp('router', {
      ...rotating,
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    [oldIngress, newIngress] = await Promise.all(
      (
        [
          ['old', OLD],
          ['new', NEW],
        ] as const
      ).map(([name, token]) =>
        startApp('ingress', {
          AI_GATEWAY_CONFIG: path,
          AI_GATEWAY_INTERNAL_TOKEN: token,
          AI_GATEWAY_DATA_DIR: join(dir, `ingress-${name}`),
          ROUTER_URL: router.baseUrl,
        }),
      ),
    );
  });

  after(async () => {
    await Promise.all([oldIngress?.stop(), newIngress?.stop(), router?.stop(), adapter?.stop()]);
    await Promise.all([chat.stop(), realtime.stop(), batches.stop()]);
  });

  const metric = async (service: AppProcess, name: string, labels: Record<string, string>) => {
    const text = await (await fetch(`http://127.0.0.1:${service.adminPort}/metrics`)).text();
    return metricSum(text, name, labels);
  };
  const previousCalls = (service: AppProcess, name: string) =>
    metric(service, 'ai_gateway_internal_auth_previous_token_total', { service: name });
  const refusals = (service: AppProcess, name: string) =>
    metric(service, 'ai_gateway_internal_auth_failures_total', { service: name });

  const chatThrough = (ingress: AppProcess) =>
    fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer sk-client',
        'x-user-id': 'alice',
      },
      body: JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] }),
    });

  const wirePost = (base: string, path: string, body: string, token?: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [WIRE_VERSION_HEADER]: WIRE_VERSION,
        ...(token === undefined ? {} : { [HEADER]: token }),
      },
      body,
    });

  it('the router answers an ingress sending the old token and one sending the new, counting only the old', async () => {
    const before = await previousCalls(router, 'router');
    const refusedBefore = await refusals(router, 'router');
    const fromOld = await chatThrough(oldIngress);
    assert.equal(fromOld.status, 200, await fromOld.text());
    assert.equal(await previousCalls(router, 'router'), before + 1);
    const fromNew = await chatThrough(newIngress);
    assert.equal(fromNew.status, 200, await fromNew.text());
    assert.equal(await previousCalls(router, 'router'), before + 1, 'the new token is not counted');
    assert.equal(await refusals(router, 'router'), refusedBefore);
    // The router sends the adapter only the new token: none counted there.
    assert.equal(await previousCalls(adapter, 'provider-adapter'), 0);
  });

  it('the old token also carries a Realtime session and a files relay through the router', async () => {
    const before = await previousCalls(router, 'router');
    const client = await connectRealtime(
      `${oldIngress.baseUrl.replace(/^http/, 'ws')}/v1/realtime?model=voice`,
      { 'x-user-id': 'alice', authorization: 'Bearer sk-client' },
    );
    const created = await client.next('session.created');
    assert.equal((created.session as { model: string }).model, 'voice');
    client.socket.close();
    await client.closed;
    assert.equal(await previousCalls(router, 'router'), before + 1);

    const files = new OpenAI({
      baseURL: `${oldIngress.baseUrl}/v1`,
      apiKey: 'sk-client',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': 'alice', 'x-ai-gateway-model': 'gpt-batch' },
    });
    const file = await files.files.create({
      file: await toFile(Buffer.from('{"hello":"world"}\n'), 'notes.jsonl'),
      purpose: 'user_data',
    });
    assert.match(file.id, /^file-aigw_/);
    assert.ok((await previousCalls(router, 'router')) >= before + 2);
  });

  it('the provider-adapter takes a router still sending the old token, and the new; any other is a 401', async () => {
    const invoke = encodeInvokeRequest(direct, {
      backendName: 'chat',
      provider: 'vllm',
      model: 'chat-model',
    });
    const calls = chat.calls.length;
    const before = await previousCalls(adapter, 'provider-adapter');
    const refusedBefore = await refusals(adapter, 'provider-adapter');
    for (const token of [OLD, NEW]) {
      const response = await wirePost(adapter.baseUrl, WIRE_PATHS.invoke, invoke, token);
      assert.equal(response.status, 200, await response.text());
    }
    assert.equal(chat.calls.length, calls + 2);
    assert.equal(await previousCalls(adapter, 'provider-adapter'), before + 1);
    for (const token of [WRONG, undefined]) {
      const response = await wirePost(adapter.baseUrl, WIRE_PATHS.invoke, invoke, token);
      assert.equal(response.status, 401);
    }
    assert.equal(chat.calls.length, calls + 2, 'no backend called for a refused hop');
    assert.equal(await refusals(adapter, 'provider-adapter'), refusedBefore + 2);
    assert.equal(await previousCalls(adapter, 'provider-adapter'), before + 1);
  });

  it('the router refuses any token but the two with a 401, and never prints either', async () => {
    const before = await previousCalls(router, 'router');
    const refusedBefore = await refusals(router, 'router');
    const route = encodeRouteRequest(direct);
    const old = await wirePost(router.baseUrl, WIRE_PATHS.route, route, OLD);
    assert.equal(old.status, 200, await old.text());
    const wrong = await wirePost(router.baseUrl, WIRE_PATHS.route, route, WRONG);
    assert.equal(wrong.status, 401);
    const body = (await wrong.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'AUTH.UNAUTHENTICATED');
    assert.equal(await refusals(router, 'router'), refusedBefore + 1);
    assert.equal(await previousCalls(router, 'router'), before + 1);
    for (const service of [adapter, router]) {
      assert.match(service.output(), /AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS is set/);
    }
    for (const service of [oldIngress, newIngress, router, adapter]) {
      const output = service.output();
      for (const token of [OLD, NEW, WRONG]) assert.ok(!output.includes(token), 'no token logged');
    }
  });
});

describe('AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS at start-up', () => {
  it('each hop service refuses a bad previous token in one line naming it, never the token', async () => {
    const base = {
      PORT: '0',
      ADMIN_PORT: '0',
      ROUTER_URL: 'http://127.0.0.1:9',
      PROVIDER_ADAPTER_URL: 'http://127.0.0.1:9',
    };
    const cases: [Record<string, string>, RegExp][] = [
      [
        { AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS: OLD },
        /PREVIOUS is set without AI_GATEWAY_INTERNAL_TOKEN/,
      ],
      [
        { AI_GATEWAY_INTERNAL_TOKEN: NEW, AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS: NEW },
        /PREVIOUS is the same as AI_GATEWAY_INTERNAL_TOKEN/,
      ],
      [
        { AI_GATEWAY_INTERNAL_TOKEN: NEW, AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS: 'short' },
        /AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS must be at least 16 characters/,
      ],
    ];
    for (const app of ['ingress', 'router', 'provider-adapter'] as const) {
      for (const [env, message] of cases) {
        const result = await runAppToExit(app, { ...base, ...env });
        assert.notEqual(result.code, 0, app);
        assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
        assert.match(result.stderr, message, app);
        assert.ok(!result.stderr.includes(NEW) && !result.stderr.includes(OLD), result.stderr);
      }
    }
  });
});
