// OpenAI's ephemeral keys for browser Realtime clients through the all-in-one gateway:
// POST /v1/realtime/client_secrets identifies the caller as a /v1/realtime?model= upgrade
// would (same route, identity, tier and budgets, same errors) and answers an `ek_` secret;
// a WebSocket that presents it (Bearer, or the browser's key subprotocol) acts as that
// caller with the session configuration it was minted with, until it expires. The fake
// backend speaks the documented events.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricSum } from '@aigw/testing';
import {
  connectRealtime as connect,
  FAKE_REALTIME_USAGE as USAGE,
  FakeRealtimeUpstream,
  realtimeRefusal as refusal,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { analyticsRows } from './analytics-rows';

const BUDGET_TOKENS = 6000;

interface Minted {
  value: string;
  expires_at: number;
  session: Record<string, unknown>;
}

describe('all-in-one gateway: /v1/realtime/client_secrets', () => {
  const backend = new FakeRealtimeUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-client-secrets-'));
  let gateway: AppProcess;
  let wsBase: string;
  let user: string;
  const minted: string[] = [];

  before(async () => {
    await backend.start();
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: realtime}
spec:
  backends:
  - {name: openai-rt, provider: openai, baseUrl: "${backend.baseUrl}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-realtime, modelNameOverride: voice}
  - {name: openai-rt-mini, provider: openai, baseUrl: "${backend.baseUrl}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-realtime-mini, modelNameOverride: voice-mini}
  userIdentification: {header: x-user-id}
  userTiers:
  - name: standard
    default: true
    selector: {header: x-user-plan, value: standard}
    tokenBudget: {daily: 1000000000}
  - name: mini
    selector: {header: x-user-plan, value: mini}
    tokenBudget: {daily: 1000000000}
    allowedModels: [voice-mini]
  tokenBudget:
    perUser: {limit: ${BUDGET_TOKENS}, period: 30d}
  security:
    promptValidation:
      blockPatterns: ['secret-plan-[0-9]+']
      redact: {detectors: [email]}
---
kind: AIGatewayRoute
metadata: {name: checked}
spec:
  backends:
  - {name: openai-rt-checked, provider: openai, baseUrl: "${backend.baseUrl}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-realtime, modelNameOverride: checked-voice}
  userIdentification: {header: x-user-id}
  security:
    responseValidation: {blockPatterns: ['BEGIN PRIVATE KEY']}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend-openai',
    });
    wsBase = gateway.baseUrl.replace(/^http/, 'ws');
  });

  after(async () => {
    await gateway?.stop();
    await backend.stop();
  });

  beforeEach(() => {
    backend.reset();
    user = `browser-${randomUUID()}`;
  });

  /** A JSON POST to the endpoint, as `headers` (the caller's identity) send it. */
  async function post(body: string, headers: Record<string, string>): Promise<Response> {
    return fetch(`${gateway.baseUrl}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  }

  /** The minting server's call: its own identity, as it would open a session. */
  async function mint(body: unknown, caller = user): Promise<Response> {
    return post(JSON.stringify(body), { 'x-user-id': caller });
  }

  async function minted200(body: unknown): Promise<Minted> {
    const answer = await mint(body);
    assert.equal(answer.status, 200, await answer.clone().text());
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    const secret = (await answer.json()) as Minted;
    minted.push(secret.value);
    return secret;
  }

  async function usageRows(count: number): Promise<{ user: string; served: string }[]> {
    return analyticsRows(
      join(dir, 'data'),
      `SELECT user_id AS user, model_served AS served FROM usage_events WHERE user_id = ?`,
      user,
      count,
    );
  }

  async function metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
  }

  it('mints an ek_ secret that opens a session as its caller, with the minted configuration applied first', async () => {
    const before = Math.floor(Date.now() / 1000);
    const secret = await minted200({
      expires_after: { anchor: 'created_at', seconds: 120 },
      session: { type: 'realtime', model: 'voice', instructions: 'Be brief', voice: 'marin' },
    });
    // Minted somewhere between the two clock readings, however long a loaded machine took.
    const after = Math.ceil(Date.now() / 1000);
    assert.match(secret.value, /^ek_[A-Za-z0-9_-]{43}$/);
    assert.ok(
      secret.expires_at >= before + 120 && secret.expires_at <= after + 120,
      `expires_at ${secret.expires_at}, minted within [${before}, ${after}]`,
    );
    assert.deepEqual(secret.session, {
      type: 'realtime',
      model: 'voice',
      instructions: 'Be brief',
      voice: 'marin',
      object: 'realtime.session',
    });

    // A browser: no identity header, the secret as its key subprotocol.
    const client = await connect(`${wsBase}/v1/realtime?model=voice`, {}, [
      'realtime',
      `openai-insecure-api-key.${secret.value}`,
    ]);
    assert.equal(client.socket.protocol, 'realtime');
    const updated = await client.next('session.updated');
    assert.equal((updated.session as { model: string }).model, 'voice');
    assert.equal((updated.session as { instructions: string }).instructions, 'Be brief');
    // The client may still change what OpenAI lets it.
    client.socket.send(
      JSON.stringify({ type: 'session.update', session: { type: 'realtime', voice: 'cedar' } }),
    );
    await client.next('session.updated');
    client.socket.send(JSON.stringify({ type: 'response.create' }));
    const done = await client.next('response.done');
    assert.deepEqual((done.response as { usage: unknown }).usage, USAGE);
    client.socket.close();
    await client.closed;

    assert.deepEqual(backend.received.slice(0, 2), [
      {
        type: 'session.update',
        session: {
          type: 'realtime',
          model: 'gpt-realtime',
          instructions: 'Be brief',
          voice: 'marin',
        },
      },
      { type: 'session.update', session: { type: 'realtime', voice: 'cedar' } },
    ]);
    const [upgrade] = backend.upgrades;
    assert.equal(upgrade.headers.authorization, 'Bearer sk-backend-openai');
    assert.ok(!JSON.stringify(upgrade.headers).includes(secret.value));
    // Billed to the caller that minted it.
    const [row] = await usageRows(1);
    assert.deepEqual({ ...row }, { user, served: 'gpt-realtime' });

    // A server-side client may send it as a bearer token, and name no model: the grant's.
    const bearer = await connect(`${wsBase}/v1/realtime`, {
      authorization: `Bearer ${secret.value}`,
    });
    assert.equal(
      ((await bearer.next('session.updated')).session as { voice: string }).voice,
      'marin',
    );
    bearer.socket.close();
    await bearer.closed;

    const text = await metrics();
    assert.ok(
      metricSum(text, 'ai_gateway_realtime_client_secrets_total', { outcome: 'minted' }) >= 1,
    );
    assert.ok(
      metricSum(text, 'ai_gateway_realtime_client_secrets_total', { outcome: 'accepted' }) >= 2,
    );
  });

  it('masks the session configuration by the route’s redact rules, and refuses a blocked one', async () => {
    const secret = await minted200({
      session: { model: 'voice', instructions: 'mail jane.doe@example.com' },
    });
    assert.equal(secret.session.instructions, 'mail [REDACTED:email]');
    const blocked = await mint({ session: { model: 'voice', instructions: 'do secret-plan-7' } });
    assert.equal(blocked.status, 400);
    const body = (await blocked.json()) as { error: { param: string; type: string } };
    assert.equal(body.error.param, 'session.instructions');
    assert.equal(body.error.type, 'invalid_request_error');
  });

  it('refuses bad input as OpenAI does, and an unknown model as the upgrade would', async () => {
    const cases: [unknown, number, string | null, string][] = [
      [
        { session: { model: 'voice' }, expires_after: { seconds: 5 } },
        400,
        'expires_after.seconds',
        'integer_below_min_value',
      ],
      [
        { session: { model: 'voice' }, expires_after: { seconds: 7201 } },
        400,
        'expires_after.seconds',
        'integer_above_max_value',
      ],
      [
        { session: { model: 'voice' }, expires_after: { anchor: 'now' } },
        400,
        'expires_after.anchor',
        'invalid_value',
      ],
      [{ session: { type: 'realtime' } }, 400, 'session.model', 'missing_required_parameter'],
      [{ session: { model: 'nope' } }, 404, 'model', 'model_not_found'],
    ];
    for (const [body, status, param, code] of cases) {
      const answer = await mint(body);
      assert.equal(answer.status, status, JSON.stringify(body));
      const error = ((await answer.json()) as { error: { param: string | null; code: string } })
        .error;
      assert.deepEqual([error.param, error.code], [param, code], JSON.stringify(body));
    }
    const notJson = await post('[1]', { 'x-user-id': user });
    assert.equal(notJson.status, 400);
    assert.ok(
      metricSum(await metrics(), 'ai_gateway_realtime_client_secrets_total', {
        outcome: 'refused',
      }) >= 6,
    );
  });

  it('refuses a model the caller’s tier may not use, as the upgrade does', async () => {
    const headers = { 'x-user-id': user, 'x-user-plan': 'mini' };
    const upgrade = await refusal(`${wsBase}/v1/realtime?model=voice`, headers);
    const refused = await post(JSON.stringify({ session: { model: 'voice' } }), headers);
    assert.equal(upgrade.status, 403);
    assert.equal(refused.status, 403);
    assert.deepEqual(((await refused.json()) as { error: unknown }).error, upgrade.body.error);
    const allowed = await post(JSON.stringify({ session: { model: 'voice-mini' } }), headers);
    assert.equal(allowed.status, 200);
    minted.push(((await allowed.json()) as Minted).value);
  });

  it('refuses a route that checks answers, as the upgrade does: no answer rule reads a session', async () => {
    const upgrade = await refusal(`${wsBase}/v1/realtime?model=checked-voice`, {
      'x-user-id': user,
    });
    const refused = await mint({ session: { model: 'checked-voice' } });
    assert.equal(upgrade.status, 400);
    assert.equal(refused.status, 400);
    const error = ((await refused.json()) as { error: { param: string; message: string } }).error;
    assert.deepEqual(error, upgrade.body.error);
    assert.equal(error.param, 'model');
    assert.match(error.message, /security\.responseValidation/);
  });

  it('refuses an unknown secret and one used for another model with the 401 of other authentication failures', async () => {
    const secret = await minted200({ session: { model: 'voice' } });
    const unknown = await refusal(`${wsBase}/v1/realtime?model=voice`, {
      authorization: 'Bearer ek_not-one-of-ours',
    });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error.type, 'authentication_error');
    assert.deepEqual(Object.keys(unknown.body.error).sort(), ['code', 'message', 'param', 'type']);
    const other = await refusal(`${wsBase}/v1/realtime?model=voice-mini`, {
      authorization: `Bearer ${secret.value}`,
    });
    assert.equal(other.status, 401);
    assert.equal(other.body.error.type, 'authentication_error');
    assert.match(String(other.body.error.message), /another model/);
    assert.ok(!JSON.stringify(other.body).includes(secret.value));
    assert.equal(backend.upgrades.length, 0);
    const text = await metrics();
    assert.ok(
      metricSum(text, 'ai_gateway_realtime_client_secrets_total', { outcome: 'unknown' }) >= 1,
    );
    assert.ok(
      metricSum(text, 'ai_gateway_realtime_client_secrets_total', { outcome: 'wrong_model' }) >= 1,
    );
  });

  it('refuses a secret once it expired', async () => {
    const secret = await minted200({
      expires_after: { anchor: 'created_at', seconds: 10 },
      session: { model: 'voice' },
    });
    const open = await connect(`${wsBase}/v1/realtime?model=voice`, {
      authorization: `Bearer ${secret.value}`,
    });
    await open.next('session.updated');
    await new Promise((resolve) =>
      setTimeout(resolve, secret.expires_at * 1000 - Date.now() + 500),
    );
    // The open session goes on past it, as OpenAI's do.
    open.socket.send(JSON.stringify({ type: 'response.create' }));
    await open.next('response.done');
    const expired = await refusal(`${wsBase}/v1/realtime?model=voice`, {
      authorization: `Bearer ${secret.value}`,
    });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error.type, 'authentication_error');
    open.socket.close();
    await open.closed;
    assert.equal(backend.upgrades.length, 1);
  });

  it('refuses to mint for a caller whose budget is spent, and a secret minted before opens nothing', async () => {
    const early = await minted200({ session: { model: 'voice' } });
    backend.usage = { ...USAGE, input_tokens: 4000, output_tokens: 3000, total_tokens: 7000 };
    const client = await connect(`${wsBase}/v1/realtime?model=voice`, {
      authorization: `Bearer ${early.value}`,
    });
    client.socket.send(JSON.stringify({ type: 'response.create' }));
    await client.next('response.done');
    assert.equal(((await client.next('error')).error as { code: string }).code, 'budget_exceeded');
    await client.closed;

    const upgrade = await refusal(`${wsBase}/v1/realtime?model=voice`, { 'x-user-id': user });
    const refused = await mint({ session: { model: 'voice' } });
    assert.equal(refused.status, upgrade.status);
    assert.equal(refused.status, 429);
    assert.ok(refused.headers.get('retry-after'));
    const body = (await refused.json()) as { error: Record<string, unknown> };
    assert.deepEqual(body.error, upgrade.body.error);

    const withEarly = await refusal(`${wsBase}/v1/realtime?model=voice`, {
      authorization: `Bearer ${early.value}`,
    });
    assert.equal(withEarly.status, 429);
    assert.equal(withEarly.body.error.code, 'budget_exceeded');
    // Another caller is not affected.
    assert.equal((await mint({ session: { model: 'voice' } }, `${user}-other`)).status, 200);
    assert.equal(backend.upgrades.length, 1);
  });

  it('never logs a secret nor puts it in a metric', async () => {
    assert.ok(minted.length >= 5);
    const text = await metrics();
    const output = gateway.output();
    for (const value of minted) {
      assert.ok(!text.includes(value.slice(3)), 'a secret in the metrics');
      assert.ok(!output.includes(value.slice(3)), 'a secret in the logs');
    }
    assert.match(output, /realtime client secret minted/);
  });
});
