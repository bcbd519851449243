// OpenAI's Realtime API through the all-in-one gateway: a `ws` client talks to
// /v1/realtime?model=<virtual model>; a fake backend speaks the documented events
// (session.created, session.update -> session.updated, response.create
// -> response.created ... response.done with usage). The session runs on the first OpenAI
// or Azure OpenAI backend of the model's chain with the backend's own key (never the
// client's), its events name the client's model, each response.done is billed (audio at
// its own prices) to the caller, a spent budget refuses before the upgrade and ends an
// open session, and unknown models, chains without realtime and refusals are HTTP errors.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Topic } from '@aigw/contracts';
import { metricSum, until } from '@aigw/testing';
import {
  connectRealtime as connect,
  FAKE_REALTIME_USAGE as USAGE,
  FakeRealtimeUpstream,
  realtimeRefusal as refusal,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { analyticsRows } from './analytics-rows';

const PRICE = {
  inputPer1k: 0.004,
  cachedInputPer1k: 0.0004,
  audioInputPer1k: 0.032,
  outputPer1k: 0.016,
  audioOutputPer1k: 0.064,
};
/** Uncached text 320, audio 580, cached 100; output text 100, audio 400. */
const USAGE_DOLLARS =
  (320 / 1000) * PRICE.inputPer1k +
  (580 / 1000) * PRICE.audioInputPer1k +
  (100 / 1000) * PRICE.cachedInputPer1k +
  (100 / 1000) * PRICE.outputPer1k +
  (400 / 1000) * PRICE.audioOutputPer1k;
const BUDGET_TOKENS = 6000;

describe('all-in-one gateway: /v1/realtime', () => {
  const backend = new FakeRealtimeUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-realtime-'));
  let gateway: AppProcess;
  let wsBase: string;
  let user: string;

  before(async () => {
    await backend.start();
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: realtime}
spec:
  backends:
  - {name: claude-first, priority: 0, provider: anthropic, baseUrl: "${backend.baseUrl}", auth: {apiKeyRef: {name: anthropic-key}}, model: claude-haiku-4-5, modelNameOverride: voice}
  - {name: openai-rt, priority: 1, provider: openai, baseUrl: "${backend.baseUrl}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-realtime, modelNameOverride: voice}
  - {name: azure-rt, provider: azure, baseUrl: "${backend.baseUrl}", auth: {apiKeyRef: {name: azure-key}}, model: rt-deployment, modelNameOverride: azure-voice}
  - {name: azure-rt-preview, provider: azure, baseUrl: "${backend.baseUrl}/openai?api-version=2025-04-01-preview", auth: {apiKeyRef: {name: azure-key}}, model: rt-preview, modelNameOverride: azure-preview-voice}
  - {name: chat-only, provider: anthropic, baseUrl: "${backend.baseUrl}", auth: {apiKeyRef: {name: anthropic-key}}, model: claude-sonnet-4-5}
  userIdentification: {header: x-user-id}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
  tokenBudget:
    perUser: {limit: ${BUDGET_TOKENS}, period: 30d}
  security:
    promptValidation:
      blockPatterns: ['secret-plan-[0-9]+']
      redact: {detectors: [email]}
  costControl:
    modelPricing:
      gpt-4o-transcribe: {inputPer1k: 0.0025, audioInputPer1k: 0.006, outputPer1k: 0.01}
      whisper-1: {inputPer1k: 0, outputPer1k: 0, perMinute: 0.006}
      gpt-realtime: {inputPer1k: ${PRICE.inputPer1k}, cachedInputPer1k: ${PRICE.cachedInputPer1k}, audioInputPer1k: ${PRICE.audioInputPer1k}, outputPer1k: ${PRICE.outputPer1k}, audioOutputPer1k: ${PRICE.audioOutputPer1k}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend-openai',
      AI_GATEWAY_SECRET_AZURE_KEY_APIKEY: 'azure-backend-key',
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
    });
    wsBase = gateway.baseUrl.replace(/^http/, 'ws');
  });

  after(async () => {
    await gateway?.stop();
    await backend.stop();
  });

  beforeEach(() => {
    backend.reset();
    user = `talker-${randomUUID()}`;
  });

  const headers = () => ({ 'x-user-id': user, authorization: 'Bearer sk-client-secret' });

  /** Whether the budget's position in the embedded event log is past its last usage event. */
  function budgetReadEveryUsageEvent(): boolean {
    const db = new DatabaseSync(join(dir, 'data', 'events.db'), { readOnly: true });
    try {
      const newest = db
        .prepare('SELECT max(seq) AS seq FROM events WHERE topic = ?')
        .get(Topic.UsageRecorded) as { seq: number | null };
      const read = db
        .prepare('SELECT seq FROM consumer_offsets WHERE consumer_group = ?')
        .get('budget') as { seq: number } | undefined;
      return (newest.seq ?? 0) <= (read?.seq ?? 0);
    } finally {
      db.close();
    }
  }

  async function usageRows(count: number) {
    return analyticsRows<{
      input: number;
      output: number;
      cost: number;
      operation: string;
      requested: string;
      served: string;
    }>(
      join(dir, 'data'),
      `SELECT input_tokens AS input, output_tokens AS output, cost_dollars AS cost,
                    operation, model_requested AS requested, model_served AS served
             FROM usage_events WHERE user_id = ?`,
      user,
      count,
    );
  }

  /** The user's rows of a request events table, once `count` are there (or a minute passed). */
  async function requestRows(table: string, count: number) {
    return analyticsRows<{ endpoint: string; status: string; backend: string; latency: number }>(
      join(dir, 'data'),
      table === 'request_completed_events'
        ? `SELECT endpoint, status, backend, latency_ms AS latency FROM ${table} WHERE user_id = ?`
        : `SELECT endpoint FROM ${table} WHERE user_id = ?`,
      user,
      count,
    );
  }

  it('refuses a text item or instructions a blockPatterns rule matches: an error event, never the backend, the session goes on', async () => {
    const client = await connect(`${wsBase}/v1/realtime?model=voice`, headers());
    await client.next('session.created');
    const item = (text: string, id: string) =>
      JSON.stringify({
        type: 'conversation.item.create',
        event_id: id,
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
      });
    client.socket.send(item('tell me secret-plan-42', 'evt_blocked'));
    const error = await client.next('error');
    const detail = error.error as {
      type: string;
      param: string;
      event_id: string;
      message: string;
    };
    assert.equal(detail.type, 'invalid_request_error');
    assert.equal(detail.param, 'item');
    assert.equal(detail.event_id, 'evt_blocked');
    assert.match(detail.message, /blockPatterns\[0\]/);
    assert.ok(!detail.message.includes('secret-plan-42'));

    client.socket.send(
      JSON.stringify({ type: 'session.update', session: { instructions: 'say secret-plan-7' } }),
    );
    assert.equal(
      ((await client.next('error')).error as { param: string }).param,
      'session.instructions',
    );

    client.socket.send(item('hello', 'evt_ok'));
    client.socket.send(JSON.stringify({ type: 'response.create' }));
    await client.next('response.done');
    client.socket.close();
    await client.closed;
    assert.deepEqual(
      backend.received.map((event) => event.type),
      ['conversation.item.create', 'response.create'],
    );
    assert.equal(backend.received[0].event_id, 'evt_ok');
  });

  it('masks a redact detector in text items, tool output and instructions before the backend, counted as chat masking is; tool definitions and audio pass as sent', async () => {
    const email = 'jane.doe@example.com';
    const mask = '[REDACTED:email]';
    const client = await connect(`${wsBase}/v1/realtime?model=voice`, headers());
    await client.next('session.created');
    const tools = [
      { type: 'function', name: 'notify', description: `mails ${email}`, parameters: {} },
    ];
    client.socket.send(
      JSON.stringify({ type: 'session.update', session: { instructions: `cc ${email}`, tools } }),
    );
    await client.next('session.updated');
    client.socket.send(
      JSON.stringify({
        type: 'conversation.item.create',
        event_id: 'evt_text',
        item: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: `write to ${email} please` }],
        },
      }),
    );
    client.socket.send(
      JSON.stringify({
        type: 'conversation.item.create',
        item: { type: 'function_call_output', call_id: 'call_1', output: `sent to ${email}` },
      }),
    );
    client.socket.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: 'AAAA' }));
    client.socket.send(
      JSON.stringify({ type: 'response.create', response: { instructions: `greet ${email}` } }),
    );
    await client.next('response.done');
    client.socket.close();
    await client.closed;

    assert.deepEqual(backend.received, [
      { type: 'session.update', session: { instructions: `cc ${mask}`, tools } },
      {
        type: 'conversation.item.create',
        event_id: 'evt_text',
        item: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: `write to ${mask} please` }],
        },
      },
      {
        type: 'conversation.item.create',
        item: { type: 'function_call_output', call_id: 'call_1', output: `sent to ${mask}` },
      },
      { type: 'input_audio_buffer.append', audio: 'AAAA' },
      { type: 'response.create', response: { instructions: `greet ${mask}` } },
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.equal(
      metricSum(metrics, 'ai_gateway_redactions_total', {
        detector: 'email',
        route: 'realtime',
        direction: 'prompt',
      }),
      4,
    );
    assert.ok(!metrics.includes(email));
  });

  it('relays a session on the first realtime backend with its key, the model renamed both ways, and bills each response', async () => {
    const client = await connect(`${wsBase}/v1/realtime?model=voice`, headers());
    const created = await client.next('session.created');
    assert.equal((created.session as { model: string }).model, 'voice');

    client.socket.send(
      JSON.stringify({
        type: 'session.update',
        session: { type: 'realtime', model: 'voice', instructions: 'Be brief' },
      }),
    );
    const updated = await client.next('session.updated');
    assert.equal((updated.session as { model: string }).model, 'voice');
    assert.equal((updated.session as { instructions: string }).instructions, 'Be brief');

    client.socket.send(JSON.stringify({ type: 'response.create' }));
    const done = await client.next('response.done');
    assert.deepEqual((done.response as { usage: unknown }).usage, USAGE);
    const types = client.events.map((event) => event.type);
    assert.deepEqual(types, [
      'session.created',
      'session.updated',
      'response.created',
      'response.output_audio.delta',
      'response.output_audio_transcript.delta',
      'response.done',
    ]);
    assert.equal(client.events[3].delta, 'AAAA/w==', 'audio relayed as it came');
    client.socket.close();
    await client.closed;

    // The backend: OpenAI's URL under its baseUrl, its own key, never the client's.
    assert.equal(backend.upgrades.length, 1, 'the anthropic backend first in the chain is skipped');
    const [upgrade] = backend.upgrades;
    assert.equal(upgrade.url, '/v1/realtime?model=gpt-realtime');
    assert.equal(upgrade.headers.authorization, 'Bearer sk-backend-openai');
    assert.ok(!JSON.stringify(upgrade.headers).includes('sk-client-secret'));
    assert.equal(upgrade.headers['x-user-id'], undefined);
    assert.equal((backend.received[0].session as { model: string }).model, 'gpt-realtime');

    const [row, ...more] = await usageRows(1);
    assert.equal(more.length, 0);
    assert.equal(row.operation, 'realtime');
    assert.equal(row.requested, 'voice');
    assert.equal(row.served, 'gpt-realtime');
    assert.equal(row.input, 1000);
    assert.equal(row.output, 500);
    assert.ok(Math.abs(row.cost - USAGE_DOLLARS) < 1e-12, `${row.cost} != ${USAGE_DOLLARS}`);

    const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.ok(
      metricSum(metrics, 'ai_gateway_realtime_sessions_total', { outcome: 'client_closed' }) >= 1,
    );
    assert.ok(
      metricSum(metrics, 'ai_gateway_realtime_frames_total', { direction: 'backend_to_client' }) >=
        6,
    );
    assert.ok(
      metricSum(metrics, 'ai_gateway_realtime_bytes_total', { direction: 'client_to_backend' }) > 0,
    );
    assert.ok(!metrics.includes('sk-backend-openai') && !metrics.includes('sk-client-secret'));
    // The session is one request in the request metrics and analytics, as a chat call is.
    assert.ok(
      metricSum(metrics, 'ai_gateway_requests_total', { route: 'realtime', status: '200' }) >= 1,
    );
    const [completed] = await requestRows('request_completed_events', 1);
    assert.equal(completed.endpoint, 'realtime');
    assert.equal(completed.status, 'success');
    assert.equal(completed.backend, 'openai-rt');
    assert.ok(completed.latency >= 0);
    assert.equal((await requestRows('request_accepted_events', 1)).length, 1);
    assert.ok(!gateway.output().includes('sk-backend-openai'));
    assert.ok(!gateway.output().includes('sk-client-secret'));
  });

  it('bills a response the client hung up on mid-answer: it is cancelled and its response.done billed', async () => {
    const budgetMetric = async (name: string, labels = {}) =>
      metricSum(
        await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
        name,
        labels,
      );
    const settled = () =>
      budgetMetric('ai_gateway_budget_usage_events_total', { result: 'applied' });
    const late = () => budgetMetric('ai_gateway_budget_late_settlements_total');
    // The earlier cases' responses reach the budget through the event log in its own time:
    // counted from once it has read them all, so only this session's settlement is added.
    await until('the budget has read every earlier usage event', budgetReadEveryUsageEvent);
    const [settledBefore, lateBefore] = [await settled(), await late()];
    backend.holdResponses = true;
    const client = await connect(`${wsBase}/v1/realtime?model=voice`, headers());
    await client.next('session.created');
    client.socket.send(JSON.stringify({ type: 'response.create' }));
    await client.next('response.output_audio_transcript.delta');
    client.socket.close();
    await client.closed;

    const [row, ...more] = await usageRows(1);
    assert.equal(more.length, 0, 'billed once');
    assert.equal(row.operation, 'realtime');
    assert.equal(row.input, 1000);
    assert.equal(row.output, 500);
    assert.deepEqual(
      backend.received.map((event) => event.type),
      ['response.create', 'response.cancel'],
    );
    // Its usage settles the session's hold, which was kept for it, not given back first.
    await until('its usage is settled', async () => (await settled()) > settledBefore);
    assert.equal(await settled(), settledBefore + 1);
    assert.equal(await late(), lateBefore, 'settled as its hold, not as a late settlement');
  });

  it('refuses an event nested too deep to read with an error event; the session and the gateway go on', async () => {
    const client = await connect(`${wsBase}/v1/realtime?model=voice`, headers());
    await client.next('session.created');
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    // Read by the prompt rules (an item's content) and by the model's renaming (a session.update).
    client.socket.send(
      `{"type":"conversation.item.create","item":{"type":"message","content":${deep(200_000)}}}`,
    );
    // Before, the gateway crashed on the first: fail at once rather than wait for the error.
    const closed = client.closed.then(({ code }) => assert.fail(`the session closed (${code})`));
    const refused = await Promise.race([client.next('error'), closed]);
    assert.equal((refused.error as { type: string }).type, 'invalid_request_error');
    assert.equal((refused.error as { code: string }).code, 'event_too_deeply_nested');
    client.socket.send(
      `{"type":"session.update","session":{"model":"other","tools":${deep(200_000)}}}`,
    );
    await Promise.race([client.next('error'), closed]);
    client.socket.send(JSON.stringify({ type: 'session.update', session: { instructions: 'Hi' } }));
    await Promise.race([client.next('session.updated'), closed]);
    assert.deepEqual(
      backend.received.map((event) => event.type),
      ['session.update'],
      'the refused events never reach the backend',
    );
    client.socket.close();
    await client.closed;
    // Another caller: this one's hold may not be given back yet.
    const again = await connect(`${wsBase}/v1/realtime?model=voice`, {
      ...headers(),
      'x-user-id': `${user}-again`,
    });
    await again.next('session.created');
    again.socket.close();
  });

  it('bills each input-audio transcription as the transcription model the session chose', async () => {
    const client = await connect(`${wsBase}/v1/realtime?model=voice`, headers());
    await client.next('session.created');
    const transcribeWith = async (model: string) => {
      client.socket.send(
        JSON.stringify({
          type: 'session.update',
          session: { type: 'realtime', audio: { input: { transcription: { model } } } },
        }),
      );
      await client.next('session.updated');
      client.socket.send(JSON.stringify({ type: 'input_audio_buffer.commit' }));
      await client.next('conversation.item.input_audio_transcription.completed');
    };
    await transcribeWith('gpt-4o-transcribe');
    await transcribeWith('whisper-1');
    client.socket.close();
    await client.closed;
    const rows = await usageRows(2);
    assert.deepEqual(
      rows.map((row) => [row.operation, row.requested, row.served, row.input, row.output]),
      [
        ['realtime', 'voice', 'gpt-4o-transcribe', 200, 30],
        ['realtime', 'voice', 'whisper-1', 0, 0],
      ],
    );
    const tokens = (20 / 1000) * 0.0025 + (180 / 1000) * 0.006 + (30 / 1000) * 0.01;
    assert.ok(Math.abs(rows[0].cost - tokens) < 1e-12, `${rows[0].cost} != ${tokens}`);
    assert.ok(Math.abs(rows[1].cost - (12 / 60) * 0.006) < 1e-12, `${rows[1].cost}`);
  });

  it('takes a browser key subprotocol without passing it on, and reaches Azure OpenAI with api-key', async () => {
    const client = await connect(`${wsBase}/realtime?model=azure-voice`, { 'x-user-id': user }, [
      'realtime',
      'openai-insecure-api-key.sk-browser-secret',
    ]);
    assert.equal(client.socket.protocol, 'realtime');
    const created = await client.next('session.created');
    assert.equal((created.session as { model: string }).model, 'azure-voice');
    client.socket.close();
    await client.closed;
    const [upgrade] = backend.upgrades;
    assert.equal(upgrade.url, '/openai/v1/realtime?model=rt-deployment');
    assert.equal(upgrade.headers['api-key'], 'azure-backend-key');
    assert.equal(upgrade.headers.authorization, undefined);
    assert.ok(!JSON.stringify(upgrade.headers).includes('sk-browser-secret'));
  });

  it('serves a session at Azure OpenAI’s /openai/v1/realtime, as an Azure v1 client connects', async () => {
    const client = await connect(`${wsBase}/openai/v1/realtime?model=azure-voice`, {
      'x-user-id': user,
      'api-key': 'sk-client-secret',
    });
    const created = await client.next('session.created');
    assert.equal((created.session as { model: string }).model, 'azure-voice');
    client.socket.close();
    await client.closed;
    assert.equal(backend.upgrades.length, 1);
    assert.equal(backend.upgrades[0].url, '/openai/v1/realtime?model=rt-deployment');
    assert.equal(backend.upgrades[0].headers['api-key'], 'azure-backend-key');
  });

  it('serves a session at Azure OpenAI’s preview /openai/realtime?deployment=, as the beta Azure helper connects', async () => {
    const client = await connect(
      `${wsBase}/openai/realtime?api-version=2025-04-01-preview&deployment=azure-voice`,
      { 'x-user-id': user, 'api-key': 'sk-client-secret' },
    );
    const created = await client.next('session.created');
    assert.equal((created.session as { model: string }).model, 'azure-voice');
    client.socket.close();
    await client.closed;
    assert.equal(backend.upgrades.length, 1);
    assert.equal(backend.upgrades[0].url, '/openai/v1/realtime?model=rt-deployment');
    assert.ok(!JSON.stringify(backend.upgrades[0].headers).includes('sk-client-secret'));
  });

  it("reaches Azure OpenAI's dated preview form when the backend's baseUrl names an api-version", async () => {
    const client = await connect(`${wsBase}/realtime?model=azure-preview-voice`, headers());
    const created = await client.next('session.created');
    assert.equal((created.session as { model: string }).model, 'azure-preview-voice');
    client.socket.close();
    await client.closed;
    assert.equal(backend.upgrades.length, 1);
    const [upgrade] = backend.upgrades;
    assert.equal(
      upgrade.url,
      '/openai/realtime?api-version=2025-04-01-preview&deployment=rt-preview',
    );
    assert.equal(upgrade.headers['api-key'], 'azure-backend-key');
    assert.equal(upgrade.headers.authorization, undefined);
  });

  it('refuses an unknown model, a chain without realtime and a plain GET as chat would, before any upgrade', async () => {
    const unknown = await refusal(`${wsBase}/v1/realtime?model=nope`, headers());
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'model_not_found');

    const chatOnly = await refusal(`${wsBase}/v1/realtime?model=claude-sonnet-4-5`, headers());
    assert.equal(chatOnly.status, 400);
    assert.equal(chatOnly.body.error.param, 'model');
    assert.match(String(chatOnly.body.error.message), /claude-sonnet-4-5.*realtime/);

    const noModel = await refusal(`${wsBase}/v1/realtime`, headers());
    assert.equal(noModel.status, 400);
    assert.equal(noModel.body.error.param, 'model');

    const plain = await fetch(`${gateway.baseUrl}/v1/realtime?model=voice`, { headers: headers() });
    assert.equal(plain.status, 400);
    assert.equal(
      ((await plain.json()) as { error: { type: string } }).error.type,
      'invalid_request_error',
    );
    assert.equal(backend.upgrades.length, 0);
  });

  it('passes a backend’s refusal on as an HTTP error, and tells the client when the backend closes', async () => {
    backend.refuseWith = 500;
    const refused = await refusal(`${wsBase}/v1/realtime?model=voice`, headers());
    assert.equal(refused.status, 502);
    assert.equal(refused.body.error.type, 'upstream_error');

    backend.refuseWith = undefined;
    const client = await connect(`${wsBase}/v1/realtime?model=voice`, headers());
    await client.next('session.created');
    client.socket.send('not json at all {');
    client.socket.send(Buffer.from([0, 1, 2, 3]));
    const bad = await client.next('error');
    assert.equal((bad.error as { code: string }).code, 'bad', 'garbage is relayed as it came');
    assert.equal((await client.next('test.binary')).bytes, 4);
    client.socket.send(JSON.stringify({ type: 'test.close' }));
    const error = await client.next('error');
    assert.equal((error.error as { code: string }).code, 'upstream_closed');
    const { code } = await client.closed;
    assert.equal(code, 1011);
    // Still serving.
    const again = await connect(`${wsBase}/v1/realtime?model=voice`, headers());
    await again.next('session.created');
    again.socket.close();
  });

  it('ends a session once its caller’s budget is spent, and refuses the next before the upgrade', async () => {
    backend.usage = { ...USAGE, input_tokens: 4000, output_tokens: 3000, total_tokens: 7000 };
    const client = await connect(`${wsBase}/v1/realtime?model=voice`, headers());
    await client.next('session.created');
    client.socket.send(JSON.stringify({ type: 'response.create' }));
    await client.next('response.done');
    const error = await client.next('error');
    assert.equal((error.error as { type: string }).type, 'invalid_request_error');
    assert.equal((error.error as { code: string }).code, 'budget_exceeded');
    assert.equal((await client.closed).code, 1008);

    const refused = await refusal(`${wsBase}/v1/realtime?model=voice`, headers());
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'budget_exceeded');
    assert.ok(refused.headers['retry-after']);
    assert.equal(backend.upgrades.length, 1, 'no backend call for the refused session');
  });
});
