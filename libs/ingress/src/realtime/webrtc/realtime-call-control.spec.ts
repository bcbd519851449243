import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { keysUnavailable, unauthenticated } from '../../identity/identity.errors';
import type { IngressPipeline } from '../../ingress-pipeline';
import { NOOP_REALTIME_OBSERVER } from '../realtime-telemetry';
import { digestOf } from '../client-secrets/client-secret-store';
import type { CallDirectory, CallRecord } from './call-directory';
import { PlacedCalls, RealtimeCallControl } from './realtime-call-control';
import type { RealtimeCallWatch } from './realtime-call-watch';

/**
 * Callers named by `x-user-id`, as a route identifying them by that header does; a token
 * that is refused (`forged`), or one whose keys cannot be fetched (`keys-away`).
 */
const pipeline = {
  ownerKeyFor: (_model: string, headers: Record<string, unknown>) => {
    if (headers['x-user-id'] === 'forged') throw unauthenticated('bad-signature');
    if (headers['x-user-id'] === 'keys-away') throw keysUnavailable('timeout');
    return headers['x-user-id'];
  },
} as unknown as IngressPipeline;

/** Another replica's calls, as Redis would hold them; `reachable` false: its replica is gone. */
class FakeDirectory implements CallDirectory {
  readonly records = new Map<string, CallRecord>();
  readonly asked: string[] = [];
  reachable = true;
  failing = false;
  placed = async () => undefined;
  ended = async () => undefined;
  listen = async () => undefined;
  close = async () => undefined;
  async find(callId: string): Promise<CallRecord | undefined> {
    if (this.failing) throw new Error('redis away');
    return this.records.get(callId);
  }
  async askHangUp(callId: string): Promise<boolean> {
    this.asked.push(callId);
    return this.reachable;
  }
}

async function served(directory?: CallDirectory) {
  const calls = new PlacedCalls();
  const hungUp: string[] = [];
  const watch = (id: string) =>
    ({ hangUp: async () => void hungUp.push(id) }) as unknown as RealtimeCallWatch;
  calls.add('rtc_here', { watch: watch('rtc_here'), owner: 'alice', model: 'voice' });
  // `verb result`, as ai_gateway_realtime_call_controls_total counts them.
  const counted: string[] = [];
  const app = Fastify();
  new RealtimeCallControl({
    pipeline,
    calls,
    observer: {
      ...NOOP_REALTIME_OBSERVER,
      callControl: (verb, result) => counted.push(`${verb} ${result}`),
    },
    directory,
    redeem: () => Promise.reject(new Error('no secrets here')),
  }).register(app, '/v1/realtime/calls');
  await app.ready();
  const post = async (callId: string, verb: string, user?: string) => {
    const answer = await app.inject({
      method: 'POST',
      url: `/v1/realtime/calls/${callId}/${verb}`,
      headers: user ? { 'x-user-id': user } : {},
    });
    const error =
      answer.statusCode === 200
        ? undefined
        : answer.json<{ error: { message: string; type: string; code: string } }>().error;
    return { status: answer.statusCode, body: answer.body, error };
  };
  return { app, post, hungUp, counted };
}

describe('RealtimeCallControl', () => {
  it('hangs up a call watched here for the caller that placed it, and answers anyone else as for an unknown call', async () => {
    const { app, post, hungUp, counted } = await served();
    const other = await post('rtc_here', 'hangup', 'mallory');
    const unknown = await post('rtc_unknown', 'hangup', 'alice');
    const nobody = await post('rtc_here', 'hangup');
    assert.deepEqual([other.status, unknown.status, nobody.status], [404, 404, 404]);
    assert.equal(
      other.error?.message.replace('rtc_here', 'x'),
      unknown.error?.message.replace('rtc_unknown', 'x'),
    );
    // Without a directory, each replica controls its own calls: the 404 says so.
    assert.match(unknown.error!.message, /replica that placed them/);
    assert.deepEqual(hungUp, []);
    const own = await post('rtc_here', 'hangup', 'alice');
    assert.equal(own.status, 200);
    assert.equal(own.body, '');
    assert.deepEqual(hungUp, ['rtc_here']);
    assert.deepEqual(counted, [
      'hangup not_found',
      'hangup not_found',
      'hangup not_found',
      'hangup hung_up',
    ]);
    await app.close();
  });

  it("answers a refused credential as for an unknown call, and the gateway's trouble identifying the caller as a 503, not a call over", async () => {
    const { app, post, hungUp, counted } = await served();
    const forged = await post('rtc_here', 'hangup', 'forged');
    assert.equal(forged.status, 404);
    const away = await post('rtc_here', 'hangup', 'keys-away');
    assert.equal(away.status, 503);
    assert.equal(away.error?.code, 'identity_provider_unavailable');
    assert.deepEqual(hungUp, []);
    assert.deepEqual(counted, ['hangup not_found', 'hangup unavailable']);
    await app.close();
  });

  it('passes a hang-up on to the replica watching the call, for its caller only', async () => {
    const directory = new FakeDirectory();
    directory.records.set('rtc_there', {
      ownerDigest: digestOf('bob'),
      model: 'voice',
      replica: 'replica-2',
    });
    const { app, post, counted } = await served(directory);
    const other = await post('rtc_there', 'hangup', 'alice');
    const unknown = await post('rtc_unknown', 'hangup', 'bob');
    assert.equal(other.status, 404);
    assert.equal(
      other.error?.message.replace('rtc_there', 'x'),
      unknown.error?.message.replace('rtc_unknown', 'x'),
    );
    assert.doesNotMatch(unknown.error!.message, /replica/);
    assert.deepEqual(directory.asked, []);
    // accept, reject and refer are for SIP calls, wherever the call is watched.
    assert.equal((await post('rtc_there', 'accept', 'bob')).status, 400);
    assert.deepEqual(directory.asked, []);

    assert.equal((await post('rtc_there', 'hangup', 'bob')).status, 200);
    assert.deepEqual(directory.asked, ['rtc_there']);
    // The replica watching it is gone (and the call's record not yet lapsed): nothing to end.
    directory.reachable = false;
    assert.equal((await post('rtc_there', 'hangup', 'bob')).status, 404);
    assert.deepEqual(counted, [
      'hangup not_found',
      'hangup not_found',
      'accept not_sip_call',
      'hangup passed_on',
      'hangup not_found',
    ]);
    await app.close();
  });

  it('answers 503 when the directory cannot be read, and still controls the calls watched here', async () => {
    const directory = new FakeDirectory();
    directory.failing = true;
    const { app, post, hungUp, counted } = await served(directory);
    const away = await post('rtc_there', 'hangup', 'bob');
    assert.equal(away.status, 503);
    assert.match(away.error!.message, /store of realtime calls/);
    assert.equal((await post('rtc_here', 'hangup', 'alice')).status, 200);
    assert.deepEqual(hungUp, ['rtc_here']);
    assert.deepEqual(counted, ['hangup unavailable', 'hangup hung_up']);
    await app.close();
  });
});
