// OpenAI's Realtime over WebRTC through the all-in-one gateway: a browser posts its SDP offer
// to POST /v1/realtime/calls with a gateway client secret (or any credential the Realtime
// socket takes); the gateway admits it as a /v1/realtime upgrade, creates the call on the
// model's OpenAI backend with the backend's key, answers the backend's SDP with a Location
// naming the call, then watches the call's sideband socket and bills each response.done as
// the socket relay does, until the call ends (a spent budget hangs it up).
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, metricSum } from '@aigw/testing';
import {
  FAKE_REALTIME_USAGE as USAGE,
  FAKE_SDP_ANSWER,
  FAKE_SDP_OFFER,
  FakeRealtimeCallsUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { analyticsRows } from './analytics-rows';

const BUDGET_TOKENS = 6000;

interface OpenAiError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

describe('all-in-one gateway: /v1/realtime/calls (WebRTC)', () => {
  const backend = new FakeRealtimeCallsUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-realtime-webrtc-'));
  let gateway: AppProcess | undefined;
  let user: string;

  before(async () => {
    await backend.start();
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: realtime}
spec:
  backends:
  - {name: openai-rt, provider: openai, baseUrl: "${backend.baseUrl}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-realtime, modelNameOverride: voice}
  - {name: azure-rt, provider: azure, baseUrl: "${backend.baseUrl}", auth: {apiKeyRef: {name: azure-key}}, model: rt-deployment, modelNameOverride: azure-voice}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: ${BUDGET_TOKENS}, period: 30d}
---
kind: AIGatewayRoute
metadata: {name: screened}
spec:
  backends:
  - {name: openai-rt-screened, provider: openai, baseUrl: "${backend.baseUrl}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-realtime, modelNameOverride: screened-voice}
  userIdentification: {header: x-user-id}
  security:
    promptValidation:
      blockPatterns: ['secret-plan-[0-9]+']
      redact: {detectors: [email]}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend-openai',
      AI_GATEWAY_SECRET_AZURE_KEY_APIKEY: 'azure-backend-key',
    });
  });

  after(async () => {
    await gateway?.stop('SIGKILL');
    await backend.stop();
  });

  beforeEach(() => {
    backend.reset();
    user = `caller-${randomUUID()}`;
  });

  /** A call as a browser posts it: the bare SDP offer. */
  function postSdp(sdp: string, headers: Record<string, string>, query = ''): Promise<Response> {
    return fetch(`${gateway!.baseUrl}/v1/realtime/calls${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', ...headers },
      body: sdp,
    });
  }

  /** A call as a server posts it: a form with `sdp` and `session`. */
  function postForm(sdp: string, session: unknown, headers: Record<string, string>) {
    const form = new FormData();
    form.set('sdp', sdp);
    form.set('session', JSON.stringify(session));
    return fetch(`${gateway!.baseUrl}/v1/realtime/calls`, { method: 'POST', headers, body: form });
  }

  async function mint(session: Record<string, unknown>): Promise<string> {
    const answer = await fetch(`${gateway!.baseUrl}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify({ session }),
    });
    assert.equal(answer.status, 200, await answer.clone().text());
    return ((await answer.json()) as { value: string }).value;
  }

  async function metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${gateway!.adminPort}/metrics`)).text();
  }

  /** The sessions metric for `outcome`, once it reached `count`. */
  function sessionsEnded(outcome: string, count: number): Promise<number> {
    return eventually(`${count} sessions ended ${outcome}`, async () => {
      const seen = metricSum(await metrics(), 'ai_gateway_realtime_sessions_total', { outcome });
      return seen >= count ? seen : undefined;
    });
  }

  async function usageRows(count: number) {
    return analyticsRows<{ input: number; output: number; operation: string; served: string }>(
      join(dir, 'data'),
      `SELECT input_tokens AS input, output_tokens AS output, operation, model_served AS served
         FROM usage_events WHERE user_id = ?`,
      user,
      count,
    );
  }

  async function refused(answer: Response, status: number): Promise<OpenAiError['error']> {
    assert.equal(answer.status, status, await answer.clone().text());
    assert.match(answer.headers.get('content-type') ?? '', /application\/json/);
    return ((await answer.json()) as OpenAiError).error;
  }

  it('answers a browser’s offer made with a client secret: the backend’s SDP and a Location naming the call, created with the backend’s key and the secret’s session', async () => {
    const secret = await mint({ type: 'realtime', model: 'voice', instructions: 'Be brief' });
    const ended = await sessionsEnded('call_ended', 0);
    const answer = await postSdp(FAKE_SDP_OFFER, { authorization: `Bearer ${secret}` });
    assert.equal(answer.status, 201, await answer.clone().text());
    assert.equal(await answer.text(), FAKE_SDP_ANSWER);
    assert.match(answer.headers.get('content-type') ?? '', /^application\/sdp/);
    const [call] = backend.calls;
    assert.equal(answer.headers.get('location'), `/v1/realtime/calls/${call.id}`);

    // Created as a server creates it: the backend's key, the browser's offer, the secret's
    // configuration for the backend's model.
    assert.equal(call.headers.authorization, 'Bearer sk-backend-openai');
    assert.ok(!JSON.stringify(call.headers).includes(secret));
    assert.equal(call.sdp, FAKE_SDP_OFFER);
    assert.deepEqual(call.session, {
      type: 'realtime',
      model: 'gpt-realtime',
      instructions: 'Be brief',
    });
    // Its sideband, joined with the backend's key.
    const [sideband] = backend.upgrades;
    assert.equal(sideband.url, `/v1/realtime?call_id=${call.id}`);
    assert.equal(sideband.headers.authorization, 'Bearer sk-backend-openai');

    // The response the sideband reported is billed to the secret's caller, and a later one too.
    const [first] = await usageRows(1);
    assert.deepEqual(
      { ...first },
      {
        input: USAGE.input_tokens,
        output: USAGE.output_tokens,
        operation: 'realtime',
        served: 'gpt-realtime',
      },
    );
    backend.respond(call.id);
    assert.equal((await usageRows(2)).length, 2);

    // The browser hangs up: the session ends, as `call_ended`, with no hang-up of ours.
    backend.endCall(call.id);
    assert.equal(await sessionsEnded('call_ended', ended + 1), ended + 1);
    assert.deepEqual(backend.hangups, []);
    // The call is one request, completed once it ended, as a socket session's.
    const [completed] = await analyticsRows<{ endpoint: string; status: string; backend: string }>(
      join(dir, 'data'),
      `SELECT endpoint, status, backend FROM request_completed_events WHERE user_id = ?`,
      user,
      1,
    );
    assert.deepEqual(
      { ...completed },
      { endpoint: 'realtime', status: 'success', backend: 'openai-rt' },
    );
    assert.ok(!gateway!.output().includes('sk-backend-openai'));
    assert.ok(!gateway!.output().includes(secret.slice(3)));
  });

  it('takes a server’s form with its own credential and its session configuration', async () => {
    const answer = await postForm(
      FAKE_SDP_OFFER,
      { type: 'realtime', model: 'voice', instructions: 'mail jane.doe@example.com' },
      { 'x-user-id': user, authorization: 'Bearer sk-client-own' },
    );
    assert.equal(answer.status, 201, await answer.clone().text());
    assert.equal(await answer.text(), FAKE_SDP_ANSWER);
    const [call] = backend.calls;
    assert.equal(call.headers.authorization, 'Bearer sk-backend-openai');
    assert.ok(!JSON.stringify(call.headers).includes('sk-client-own'));
    assert.deepEqual(call.session, {
      type: 'realtime',
      model: 'gpt-realtime',
      instructions: 'mail jane.doe@example.com',
    });
    assert.equal((await usageRows(1)).length, 1);
    backend.endCall(call.id);
  });

  it('refuses a call on a route that screens prompts or answers, whose data channel would pass them unchecked, before any backend call', async () => {
    const cases = [
      () =>
        postForm(
          FAKE_SDP_OFFER,
          { model: 'screened-voice', instructions: 'hello' },
          { 'x-user-id': user },
        ),
      async () =>
        postSdp(FAKE_SDP_OFFER, {
          authorization: `Bearer ${await mint({ type: 'realtime', model: 'screened-voice' })}`,
        }),
    ];
    for (const post of cases) {
      const error = await refused(await post(), 400);
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.param, 'model');
      assert.match(error.message, /screens prompts or answers/);
      assert.match(error.message, /GET \/v1\/realtime/);
    }
    assert.equal(backend.calls.length, 0);
  });

  it('hangs up a call once its caller’s budget is spent, and refuses the next before any backend call', async () => {
    backend.usage = { ...USAGE, input_tokens: 4000, output_tokens: 3000, total_tokens: 7000 };
    const exceeded = await sessionsEnded('budget_exceeded', 0);
    const answer = await postSdp(FAKE_SDP_OFFER, { 'x-user-id': user }, '?model=voice');
    assert.equal(answer.status, 201, await answer.clone().text());
    const [call] = backend.calls;
    assert.equal(await sessionsEnded('budget_exceeded', exceeded + 1), exceeded + 1);
    // Sent once the gateway counted the session ended: under load it may come after the count.
    assert.deepEqual(
      (await backend.hungUp(1)).map(({ id, headers }) => [id, headers.authorization]),
      [[call.id, 'Bearer sk-backend-openai']],
    );
    assert.equal(backend.watched(call.id), false);

    const error = await refused(
      await postSdp(FAKE_SDP_OFFER, { 'x-user-id': user }, '?model=voice'),
      429,
    );
    assert.equal(error.code, 'budget_exceeded');
    assert.equal(backend.calls.length, 1, 'no backend call for the refused one');
  });

  it('refuses an unknown model, a missing or invalid SDP, and an Azure-only model, as OpenAI-style errors', async () => {
    const caller = { 'x-user-id': user };
    const unknown = await refused(await postSdp(FAKE_SDP_OFFER, caller, '?model=nope'), 404);
    assert.equal(unknown.code, 'model_not_found');
    const noModel = await refused(await postSdp(FAKE_SDP_OFFER, caller), 400);
    assert.equal(noModel.param, 'model');

    const empty = await refused(await postSdp('', caller, '?model=voice'), 400);
    assert.equal(empty.param, 'sdp');
    assert.equal(empty.type, 'invalid_request_error');
    const notSdp = await refused(await postSdp('hello', caller, '?model=voice'), 400);
    assert.equal(notSdp.param, 'sdp');
    const json = await fetch(`${gateway!.baseUrl}/v1/realtime/calls?model=voice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...caller },
      body: JSON.stringify({ sdp: FAKE_SDP_OFFER }),
    });
    assert.equal((await refused(json, 400)).param, 'sdp');
    const badSession = new FormData();
    badSession.set('sdp', FAKE_SDP_OFFER);
    badSession.set('session', 'not json');
    const form = await fetch(`${gateway!.baseUrl}/v1/realtime/calls?model=voice`, {
      method: 'POST',
      headers: caller,
      body: badSession,
    });
    assert.equal((await refused(form, 400)).param, 'session');

    const azure = await refused(await postSdp(FAKE_SDP_OFFER, caller, '?model=azure-voice'), 400);
    assert.match(azure.message, /OpenAI backends only/);
    assert.equal(backend.calls.length, 0);
    assert.equal(backend.upgrades.length, 0);
  });

  it('refuses an unknown client secret, and one for another model, with the 401 of other authentication failures', async () => {
    const unknown = await refused(
      await postSdp(FAKE_SDP_OFFER, { authorization: 'Bearer ek_not-one-of-ours' }),
      401,
    );
    assert.equal(unknown.type, 'authentication_error');
    const secret = await mint({ model: 'voice' });
    const other = await refused(
      await postSdp(FAKE_SDP_OFFER, { authorization: `Bearer ${secret}` }, '?model=azure-voice'),
      401,
    );
    assert.match(other.message, /another model/);
    assert.ok(!JSON.stringify(other).includes(secret));
    assert.equal(backend.calls.length, 0);
  });

  /** A control request (`hangup`, `accept`, …) on a call, as its caller's server sends it. */
  function control(
    callId: string,
    verb: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<Response> {
    return fetch(`${gateway!.baseUrl}/v1/realtime/calls/${callId}/${verb}`, {
      method: 'POST',
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  function callsEnded(outcome: string, text: string): number {
    return metricSum(text, 'ai_gateway_realtime_calls_ended_total', { outcome });
  }

  it('hangs up a call its caller asks to end: the backend hangs it up with its own key, the responses it reported last are billed, and the call counts as hung up', async () => {
    const secret = await mint({ type: 'realtime', model: 'voice' });
    backend.responsesOnHangup = 1;
    const before = await metrics();
    const answer = await postSdp(FAKE_SDP_OFFER, { authorization: `Bearer ${secret}` });
    assert.equal(answer.status, 201, await answer.clone().text());
    const [call] = backend.calls;
    assert.equal((await usageRows(1)).length, 1);

    // The server that minted the secret hangs up, with its own credential (never sent on).
    const hungUp = await control(call.id, 'hangup', {
      'x-user-id': user,
      authorization: 'Bearer sk-client-own',
    });
    assert.equal(hungUp.status, 200, await hungUp.clone().text());
    assert.equal(await hungUp.text(), '');
    assert.deepEqual(
      backend.hangups.map(({ id, headers }) => [id, headers.authorization]),
      [[call.id, 'Bearer sk-backend-openai']],
    );
    assert.equal(backend.watched(call.id), false);
    // The response the backend reported as it hung up is billed to the caller.
    assert.equal((await usageRows(2)).length, 2);
    // The call is one request, completed as it was hung up.
    const [completed] = await analyticsRows<{ status: string }>(
      join(dir, 'data'),
      `SELECT status FROM request_completed_events WHERE user_id = ?`,
      user,
      1,
    );
    assert.equal(completed.status, 'success');
    const after = await metrics();
    assert.equal(callsEnded('hung_up', after), callsEnded('hung_up', before) + 1);
    assert.equal(
      metricSum(after, 'ai_gateway_realtime_sessions_total', { outcome: 'hung_up' }),
      metricSum(before, 'ai_gateway_realtime_sessions_total', { outcome: 'hung_up' }) + 1,
    );

    // Over now: a second hang-up finds no call.
    const again = await refused(await control(call.id, 'hangup', { 'x-user-id': user }), 404);
    assert.equal(again.type, 'invalid_request_error');
    assert.equal(backend.hangups.length, 1);
  });

  it('lets only the caller that placed a call control it: anyone else gets the 404 of an unknown call', async () => {
    // Minted first: the call's budget hold leaves no room for a mint until a response settles it.
    const secret = await mint({ type: 'realtime', model: 'voice' });
    const answer = await postSdp(FAKE_SDP_OFFER, { 'x-user-id': user }, '?model=voice');
    assert.equal(answer.status, 201, await answer.clone().text());
    const [call] = backend.calls;
    const other = await refused(
      await control(call.id, 'hangup', { 'x-user-id': `${user}-other` }),
      404,
    );
    const unknown = await refused(
      await control('rtc_not_one_of_ours', 'hangup', { 'x-user-id': user }),
      404,
    );
    // The same answer, the id apart: nothing says the other caller's call exists.
    assert.equal(
      other.message.replace(call.id, '<id>'),
      unknown.message.replace('rtc_not_one_of_ours', '<id>'),
    );
    assert.deepEqual({ ...other, message: '' }, { ...unknown, message: '' });
    const stranger = await refused(
      await control(call.id, 'hangup', { authorization: 'Bearer ek_not-one-of-ours' }),
      404,
    );
    assert.equal(stranger.message, other.message);
    assert.deepEqual(backend.hangups, []);
    assert.equal(backend.watched(call.id), true, 'the call goes on');

    // Its caller, by a client secret it minted, may.
    const hungUp = await control(call.id, 'hangup', { authorization: `Bearer ${secret}` });
    assert.equal(hungUp.status, 200, await hungUp.clone().text());
    assert.deepEqual(
      backend.hangups.map(({ id }) => id),
      [call.id],
    );
  });

  it('releases the budget hold of a call hung up before any response, so its caller has its room back', async () => {
    backend.responsesOnJoin = 0;
    const answer = await postSdp(FAKE_SDP_OFFER, { 'x-user-id': user }, '?model=voice');
    assert.equal(answer.status, 201, await answer.clone().text());
    const [call] = backend.calls;
    // Held while the call runs: no room for a client secret meanwhile.
    const held = await fetch(`${gateway!.baseUrl}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify({ session: { type: 'realtime', model: 'voice' } }),
    });
    assert.equal((await refused(held, 429)).code, 'budget_exceeded');
    const hungUp = await control(call.id, 'hangup', { 'x-user-id': user });
    assert.equal(hungUp.status, 200, await hungUp.clone().text());
    await mint({ type: 'realtime', model: 'voice' });
  });

  it('answers accept, reject and refer (incoming SIP calls only) with a 400 on a call it placed and a 404 on any other, forwarding none', async () => {
    const answer = await postSdp(FAKE_SDP_OFFER, { 'x-user-id': user }, '?model=voice');
    assert.equal(answer.status, 201, await answer.clone().text());
    const [call] = backend.calls;
    const caller = { 'x-user-id': user };
    const bodies: Record<string, unknown> = {
      accept: { type: 'realtime', model: 'voice' },
      reject: { status_code: 486 },
      refer: { target_uri: 'tel:+14155550123' },
    };
    for (const [verb, body] of Object.entries(bodies)) {
      const own = await refused(await control(call.id, verb, caller, body), 400);
      assert.equal(own.type, 'invalid_request_error');
      assert.equal(own.param, 'call_id');
      assert.match(own.message, /incoming SIP calls/);
      assert.match(own.message, /hangup/);
      await refused(await control('rtc_sip_elsewhere', verb, caller, body), 404);
      await refused(await control(call.id, verb, { 'x-user-id': `${user}-other` }, body), 404);
    }
    // Another method on a control path: the 405 naming POST, as on every served path.
    const got = await fetch(`${gateway!.baseUrl}/v1/realtime/calls/${call.id}/hangup`);
    assert.equal(got.status, 405);
    assert.equal(got.headers.get('allow'), 'POST');
    assert.deepEqual(backend.hangups, []);
    assert.equal(backend.watched(call.id), true);
    // Without `/v1` too, as every public path is served.
    const unprefixed = await fetch(`${gateway!.baseUrl}/realtime/calls/${call.id}/hangup`, {
      method: 'POST',
      headers: caller,
    });
    assert.equal(unprefixed.status, 200, await unprefixed.clone().text());
    assert.deepEqual(
      backend.hangups.map(({ id }) => id),
      [call.id],
    );
  });

  // Last: it stops the gateway.
  it('hangs up the calls it watches as it stops (nothing would bill them after), and exits promptly', async () => {
    const answer = await postSdp(FAKE_SDP_OFFER, { 'x-user-id': user }, '?model=voice');
    assert.equal(answer.status, 201, await answer.clone().text());
    const [call] = backend.calls;
    const ended = await gateway!.stop();
    gateway = undefined;
    assert.deepEqual(ended, { code: 0, signal: null });
    assert.deepEqual(
      backend.hangups.map(({ id }) => id),
      [call.id],
    );
  });
});
