// Realtime call control across ingress replicas (real Redis): a call placed through one
// ingress is hung up by its caller through another. The placing replica announced it in
// Redis; the other finds it there, checks the caller and passes the hang-up on to the
// replica watching the call, whose hops hang it up at the backend with the backend's key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisClient } from '@aigw/infra';
import { eventually, metricSum, startRedis, type RealService } from '@aigw/testing';
import { FAKE_SDP_OFFER, FakeRealtimeCallsUpstream } from '@aigw/testing/fake-provider';
import { startApp, startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

describe('split deployment: realtime call control across ingress replicas', () => {
  const backend = new FakeRealtimeCallsUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-call-control-'));
  const services: AppProcess[] = [];
  let redis: RealService;
  let placing: AppProcess;
  let other: AppProcess;

  before(async () => {
    [redis] = await Promise.all([startRedis(), backend.start()]);
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-call-control}
spec:
  backends:
  - {name: openai-rt, provider: openai, baseUrl: "${backend.baseUrl}/v1", auth: {apiKeyRef: {name: openai-key}}, model: gpt-realtime, modelNameOverride: voice}
  userIdentification: {header: x-user-id}
`,
    );
    const env = { AI_GATEWAY_CONFIG: path, REDIS_URL: redis.url };
    const plane = await startSplitDataPlane(env, dir, services, {
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend-openai',
    });
    placing = plane.ingress;
    other = await startApp('ingress', {
      ...env,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress-2'),
      ROUTER_URL: plane.router.baseUrl,
    });
    services.push(other);
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await backend.stop();
    await redis.stop();
  });

  const hangUp = (through: AppProcess, callId: string, user: string) =>
    fetch(`${through.baseUrl}/v1/realtime/calls/${callId}/hangup`, {
      method: 'POST',
      headers: { 'x-user-id': user, authorization: 'Bearer sk-client-own' },
    });

  it('hangs up a call placed through one ingress when its caller asks another; anyone else gets a 404 there', async () => {
    const answer = await fetch(`${placing.baseUrl}/v1/realtime/calls?model=voice`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', 'x-user-id': 'carol' },
      body: FAKE_SDP_OFFER,
    });
    assert.equal(answer.status, 201, await answer.clone().text());
    const [call] = backend.calls;

    const stranger = await hangUp(other, call.id, 'mallory');
    assert.equal(stranger.status, 404);
    assert.equal(backend.watched(call.id), true);

    const hungUp = await hangUp(other, call.id, 'carol');
    assert.equal(hungUp.status, 200, await hungUp.clone().text());
    assert.deepEqual(
      (await backend.hungUp(1)).map(({ id, headers }) => [id, headers.authorization]),
      [[call.id, 'Bearer sk-backend-openai']],
    );
    // Counted where the call was watched, in that replica's own time.
    const ended = await eventually('the watching replica counts the hang-up', async () => {
      const text = await (await fetch(`http://127.0.0.1:${placing.adminPort}/metrics`)).text();
      const count = metricSum(text, 'ai_gateway_realtime_calls_ended_total', {
        outcome: 'hung_up',
      });
      return count === 0 ? undefined : count;
    });
    assert.equal(ended, 1);
    // Counted where asked: the stranger's 404 and the hang-up passed on.
    const asked = await (await fetch(`http://127.0.0.1:${other.adminPort}/metrics`)).text();
    const controls = (result: string) =>
      metricSum(asked, 'ai_gateway_realtime_call_controls_total', { verb: 'hangup', result });
    assert.deepEqual([controls('not_found'), controls('passed_on')], [1, 1]);
    // Over: its record went with it, so a second hang-up finds nothing on either replica.
    const again = await eventually('the call record is gone', async () => {
      const response = await hangUp(other, call.id, 'carol');
      await response.arrayBuffer();
      return response.status === 404 ? response.status : undefined;
    });
    assert.equal(again, 404);
    assert.equal((await hangUp(placing, call.id, 'carol')).status, 404);
    for (const service of services) assert.ok(!service.output().includes('sk-client-own'));
  });

  // Last: it stops the placing ingress.
  it('leaves no record of the calls a stopping ingress hangs up', async () => {
    backend.reset();
    const answer = await fetch(`${placing.baseUrl}/v1/realtime/calls?model=voice`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', 'x-user-id': 'carol' },
      body: FAKE_SDP_OFFER,
    });
    assert.equal(answer.status, 201, await answer.clone().text());
    const probe = createRedisClient(redis.url);
    try {
      assert.equal((await probe.keys('aigw:realtime-call:*')).length, 1);
      assert.deepEqual(await placing.stop(), { code: 0, signal: null });
      assert.equal((await backend.hungUp(1)).length, 1);
      assert.deepEqual(await probe.keys('aigw:realtime-call:*'), []);
    } finally {
      probe.disconnect();
    }
  });
});
