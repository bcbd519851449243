import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { FAKE_SDP_OFFER, upstreamTarget } from '@aigw/testing/fake-provider';
import { createRealtimeCall } from './realtime-calls';

/** A backend key of no known shape: only the key itself can find it in a message. */
const BACKEND_KEY = 'proxyKey-7Hq2Zx9LmWv4';

describe('a WebRTC call the backend refuses with a message quoting its key', () => {
  // A 400 whose message names the credential it was sent (an OpenAI-compatible proxy in
  // front of OpenAI, say): the client hears the message, never the key.
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        error: {
          message: `Invalid session for credential '${request.headers.authorization}'`,
        },
      }),
    );
  });
  before(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  after(() => new Promise((resolve) => server.close(resolve)));

  it('relays the message with the key redacted', async () => {
    const target = upstreamTarget(
      {
        provider: 'openai',
        model: 'gpt-realtime',
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
      },
      { headerName: 'authorization', headerPrefix: 'Bearer ', value: BACKEND_KEY },
    );
    const error = await createRealtimeCall(
      target,
      { sdp: FAKE_SDP_OFFER, session: {} },
      new AbortController().signal,
    ).then(
      () => assert.fail('the call was refused'),
      (refused: unknown) => refused,
    );
    assert.ok(error instanceof DataPlaneError);
    assert.equal(error.httpStatus, 400);
    assert.match(error.message, /refused the realtime call \(HTTP 400\): Invalid session/);
    assert.ok(!error.message.includes(BACKEND_KEY), error.message);
  });
});
