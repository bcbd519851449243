// Realtime over WebRTC in the split deployment: the ingress takes the browser's offer
// (POST /v1/realtime/calls), the call crosses both hops as a Realtime session does, the
// provider-adapter creates it with the backend's key and watches its sideband, metering each
// response; the ingress answers the backend's SDP and the call's Location.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FAKE_SDP_ANSWER,
  FAKE_SDP_OFFER,
  FakeRealtimeCallsUpstream,
} from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';
import { adapterUsageEvents } from './adapter-usage-events';

/** A browser's offer as long as a real one with its ICE candidates gathered (about 7.5 KB). */
const LONG_OFFER =
  FAKE_SDP_OFFER +
  Array.from(
    { length: 80 },
    (_, i) =>
      `a=candidate:${1_000_000 + i} 1 udp 2122260223 192.168.${i}.17 ${50_000 + i} typ host generation 0 network-id 1\r\n`,
  ).join('');

describe('split deployment: realtime calls (WebRTC) at the ingress', () => {
  const backend = new FakeRealtimeCallsUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-webrtc-'));
  const services: AppProcess[] = [];
  let ingress: AppProcess;

  before(async () => {
    await backend.start();
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-webrtc}
spec:
  backends:
  - {name: openai-rt, provider: openai, baseUrl: "${backend.baseUrl}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-realtime, modelNameOverride: voice}
  userIdentification: {header: x-user-id}
`,
    );
    ({ ingress } = await startSplitDataPlane({ AI_GATEWAY_CONFIG: path }, dir, services, {
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend-openai',
    }));
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await backend.stop();
  });

  beforeEach(() => backend.reset());

  /** A browser's call: its bare SDP offer, posted for `model`. */
  const postOffer = (sdp: string, headers: Record<string, string> = {}, model = 'voice') =>
    fetch(`${ingress.baseUrl}/v1/realtime/calls?model=${model}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', 'x-user-id': 'split-caller', ...headers },
      body: sdp,
    });

  it('answers the offer across both hops, the call created with the backend’s key and metered at the adapter', async () => {
    const answer = await postOffer(LONG_OFFER, { authorization: 'Bearer sk-client-own' });
    assert.equal(answer.status, 201, await answer.clone().text());
    assert.equal(await answer.text(), FAKE_SDP_ANSWER);
    const [call] = backend.calls;
    assert.equal(answer.headers.get('location'), `/v1/realtime/calls/${call.id}`);
    assert.equal(call.sdp, LONG_OFFER);
    assert.equal(call.headers.authorization, 'Bearer sk-backend-openai');
    assert.deepEqual(call.session, { type: 'realtime', model: 'gpt-realtime' });
    assert.equal(backend.upgrades[0].headers.authorization, 'Bearer sk-backend-openai');

    const [event] = await adapterUsageEvents(dir, 1);
    assert.equal(event.userId, 'split-caller');
    assert.equal(event.modelServed, 'gpt-realtime');
    backend.endCall(call.id);
    for (const service of services) assert.ok(!service.output().includes('sk-client-own'));
  });

  it('refuses a missing SDP, an unknown model and an offer too large for the hops at the ingress, as OpenAI-style errors', async () => {
    const missing = await postOffer('');
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as { error: { param: string } }).error.param, 'sdp');
    const unknown = await postOffer(FAKE_SDP_OFFER, {}, 'nope');
    assert.equal(unknown.status, 404);
    assert.equal(
      ((await unknown.json()) as { error: { code: string } }).error.code,
      'model_not_found',
    );
    // An offer past what the hops carry (they send it in a header): a 400 saying so.
    const long = await postOffer(LONG_OFFER + LONG_OFFER.slice(FAKE_SDP_OFFER.length));
    assert.equal(long.status, 400);
    const error = ((await long.json()) as { error: { param: string; message: string } }).error;
    assert.equal(error.param, 'sdp');
    assert.match(error.message, /all-in-one gateway takes larger ones/);
    assert.equal(backend.calls.length, 0);
  });

  it('hangs up a call its caller asks to end through both hops, with the backend’s key, its last response metered; another caller gets a 404', async () => {
    backend.responsesOnHangup = 1;
    const answer = await postOffer(FAKE_SDP_OFFER, { 'x-user-id': 'split-hanger' });
    assert.equal(answer.status, 201, await answer.clone().text());
    const [call] = backend.calls;
    const hangUp = (user: string) =>
      fetch(`${ingress.baseUrl}/v1/realtime/calls/${call.id}/hangup`, {
        method: 'POST',
        headers: { 'x-user-id': user, authorization: 'Bearer sk-client-own' },
      });
    const other = await hangUp('split-other');
    assert.equal(other.status, 404);
    assert.equal(
      ((await other.json()) as { error: { type: string } }).error.type,
      'invalid_request_error',
    );
    assert.equal(backend.watched(call.id), true);

    const hungUp = await hangUp('split-hanger');
    assert.equal(hungUp.status, 200, await hungUp.clone().text());
    assert.deepEqual(
      (await backend.hungUp(1)).map(({ id, headers }) => [id, headers.authorization]),
      [[call.id, 'Bearer sk-backend-openai']],
    );
    // The response on join and the one the backend reported as it hung up.
    const events = (await adapterUsageEvents(dir, 3)).filter(
      (event) => event.userId === 'split-hanger',
    );
    assert.equal(events.length, 2);
    for (const service of services) assert.ok(!service.output().includes('sk-client-own'));
  });

  // Last: it stops the ingress.
  it('hangs up the calls the ingress watches as it stops, through both hops', async () => {
    const answer = await postOffer(FAKE_SDP_OFFER);
    assert.equal(answer.status, 201, await answer.clone().text());
    const [call] = backend.calls;
    await ingress.stop();
    assert.deepEqual(
      (await backend.hungUp(1)).map(({ id, headers }) => [id, headers.authorization]),
      [[call.id, 'Bearer sk-backend-openai']],
    );
  });
});
