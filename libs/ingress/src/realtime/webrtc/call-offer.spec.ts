import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { parseCallRequest } from './call-offer';

const OFFER = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

/** A form as a server's FormData sends it. */
async function form(fields: Record<string, string>): Promise<[string, Buffer]> {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.set(name, value);
  const request = new Request('http://x', { method: 'POST', body: data });
  return [request.headers.get('content-type')!, Buffer.from(await request.arrayBuffer())];
}

function refusedParam(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof DataPlaneError);
    assert.equal(error.httpStatus, 400);
    return error.param;
  }
  assert.fail('not refused');
}

describe('parseCallRequest', () => {
  it('takes a browser’s bare SDP, naming no model', () => {
    assert.deepEqual(parseCallRequest('application/sdp', Buffer.from(OFFER)), {
      offer: { sdp: OFFER },
    });
  });

  it('takes a server’s form: the SDP, the session, and the model it names', async () => {
    const [type, body] = await form({
      sdp: OFFER,
      session: JSON.stringify({ type: 'realtime', model: 'voice', instructions: 'Hi' }),
    });
    assert.deepEqual(parseCallRequest(type, body), {
      offer: { sdp: OFFER, session: { type: 'realtime', model: 'voice', instructions: 'Hi' } },
      model: 'voice',
    });
  });

  it('refuses a missing or malformed offer, and a session that is no JSON object, naming the field', async () => {
    assert.equal(
      refusedParam(() => parseCallRequest('application/sdp', Buffer.alloc(0))),
      'sdp',
    );
    assert.equal(
      refusedParam(() => parseCallRequest('application/sdp', Buffer.from('hello'))),
      'sdp',
    );
    assert.equal(
      refusedParam(() => parseCallRequest(undefined, undefined)),
      'sdp',
    );
    assert.equal(
      refusedParam(() => parseCallRequest('application/json', Buffer.from('{"sdp":"v=0"}'))),
      'sdp',
    );
    const [type, noSdp] = await form({ session: '{}' });
    assert.equal(
      refusedParam(() => parseCallRequest(type, noSdp)),
      'sdp',
    );
    for (const session of ['not json', '[1]', 'null']) {
      const [formType, body] = await form({ sdp: OFFER, session });
      assert.equal(
        refusedParam(() => parseCallRequest(formType, body)),
        'session',
        session,
      );
    }
  });
});
