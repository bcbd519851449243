import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  realtimeCallAnswered,
  withRealtimeCallOffer,
  type DataPlaneError,
  type GatewayRequest,
  type RealtimeCallOffer,
  type RealtimeFrame,
  type RealtimeListener,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  FAKE_SDP_ANSWER,
  FAKE_SDP_OFFER,
  FakeRealtimeCallsUpstream,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { RealtimeConnector } from './realtime-connector';
import { sidebandUrl } from './realtime-calls';

const REQUEST: GatewayRequest = {
  requestId: 'r1',
  operation: 'realtime',
  requestedModel: 'voice',
  stream: false,
  clientWantsStreamUsage: false,
  body: { model: 'voice' },
  caller: { userKey: 'alice' },
  allowedModels: [],
  forwardHeaders: {},
};

/** A listener that keeps what it heard, and resolves once the sideband closed. */
function listening() {
  const frames: RealtimeFrame[] = [];
  let closed!: (code: number) => void;
  const closedWith = new Promise<number>((resolve) => (closed = resolve));
  const listener: RealtimeListener = {
    frame: (frame) => frames.push(frame),
    closed: (code) => closed(code),
  };
  return { frames, listener, closedWith };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe('RealtimeConnector: WebRTC calls', () => {
  const backend = new FakeRealtimeCallsUpstream();
  let target: UpstreamTarget;
  before(async () => {
    await backend.start();
    target = upstreamTarget(
      { provider: 'openai', model: 'gpt-realtime', baseUrl: `${backend.baseUrl}/v1` },
      { headerName: 'authorization', headerPrefix: 'Bearer ', value: 'sk-backend' },
    );
  });
  after(() => backend.stop());
  beforeEach(() => backend.reset());
  /** Connects a WebRTC call with this offer, on the fake backend unless told otherwise. */
  const connectCall = (
    offer: RealtimeCallOffer,
    listener: RealtimeListener = listening().listener,
    on: UpstreamTarget = target,
  ) =>
    new RealtimeConnector().connectRealtime({
      request: withRealtimeCallOffer(REQUEST, offer),
      target: on,
      listener,
      signal: new AbortController().signal,
    });

  it('names the call’s sideband under the backend’s base URL, https as wss', () => {
    assert.equal(
      sidebandUrl(upstreamTarget({ provider: 'openai', model: 'm' }), 'rtc_1'),
      'wss://api.openai.com/v1/realtime?call_id=rtc_1',
    );
    assert.equal(
      sidebandUrl(target, 'rtc_2'),
      `${backend.baseUrl.replace('http', 'ws')}/v1/realtime?call_id=rtc_2`,
    );
  });

  it('creates the call with the backend’s key, hands its answer over once, relays the sideband, and hangs up on close', async () => {
    const { frames, listener, closedWith } = listening();
    const connection = await connectCall(
      { sdp: FAKE_SDP_OFFER, session: { model: 'voice', instructions: 'Be brief' } },
      listener,
    );
    const [call] = backend.calls;
    assert.equal(call.headers.authorization, 'Bearer sk-backend');
    assert.equal(call.sdp, FAKE_SDP_OFFER);
    assert.deepEqual(call.session, {
      type: 'realtime',
      model: 'gpt-realtime',
      instructions: 'Be brief',
    });
    await until(() => frames.length >= 3);
    const answers = frames.map(realtimeCallAnswered).filter((answer) => answer !== undefined);
    assert.deepEqual(answers, [{ sdp: FAKE_SDP_ANSWER, callId: call.id }]);
    assert.deepEqual(
      frames
        .filter((frame) => realtimeCallAnswered(frame) === undefined)
        .map((frame) => (JSON.parse(frame as string) as { type: string }).type),
      ['session.created', 'response.done'],
    );
    assert.equal(backend.upgrades[0].headers.authorization, 'Bearer sk-backend');

    connection.close(1008, 'budget exceeded');
    assert.equal(await closedWith, 1000);
    assert.deepEqual(
      backend.hangups.map(({ id, headers }) => [id, headers.authorization]),
      [[call.id, 'Bearer sk-backend']],
    );
  });

  it('owes no hang-up for a call the backend ended', async () => {
    const { listener, closedWith } = listening();
    const connection = await connectCall({ sdp: FAKE_SDP_OFFER }, listener);
    backend.endCall(backend.calls[0].id);
    assert.equal(await closedWith, 1000);
    connection.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(backend.hangups, []);
  });

  it('fails as the backend refused the call, with its status, and opens no sideband', async () => {
    backend.refuseWith = 429;
    await assert.rejects(
      connectCall({ sdp: FAKE_SDP_OFFER }),
      (error: DataPlaneError) =>
        error.httpStatus === 429 && /refused the realtime call/.test(error.message),
    );
    backend.refuseWith = undefined;
    await assert.rejects(
      connectCall({ sdp: 'not an offer the backend reads' }),
      (error: DataPlaneError) =>
        error.httpStatus === 400 && /Invalid SDP offer/.test(error.message),
    );
    assert.equal(backend.upgrades.length, 0);
  });

  it('hangs up a call whose sideband could not be opened, and hands no answer over', async () => {
    backend.refuseSidebandWith = 503;
    const { frames, listener } = listening();
    await assert.rejects(
      connectCall({ sdp: FAKE_SDP_OFFER }, listener),
      (error: DataPlaneError) => error.upstreamStatus === 503,
    );
    await until(() => backend.hangups.length > 0);
    assert.deepEqual(
      backend.hangups.map(({ id }) => id),
      [backend.calls[0].id],
    );
    assert.deepEqual(frames, []);
  });

  it('refuses a call on an Azure OpenAI backend before anything is sent', async () => {
    await assert.rejects(
      connectCall(
        { sdp: FAKE_SDP_OFFER },
        listening().listener,
        upstreamTarget({ provider: 'azure', model: 'rt', baseUrl: backend.baseUrl }),
      ),
      (error: DataPlaneError) =>
        error.httpStatus === 400 && /OpenAI backends only/.test(error.message),
    );
    assert.equal(backend.calls.length, 0);
  });
});
