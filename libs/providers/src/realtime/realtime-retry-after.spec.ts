import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DataPlaneError,
  withRealtimeCallOffer,
  type GatewayRequest,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { FAKE_SDP_OFFER, upstreamTarget } from '@aigw/testing/fake-provider';
import { MAX_RETRY_AFTER_MS } from '../core/upstream-failure';
import { RealtimeConnector } from './realtime-connector';

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

/**
 * A refused Realtime session or WebRTC call reads the backend's wait as a refused chat call
 * does: `retry-after-ms`, `Retry-After` in seconds or as an HTTP date, at most a day. The
 * router cools the backend for it and the client's handshake refusal carries it.
 */
describe('RealtimeConnector: a backend refusing with 429 and its wait', () => {
  let refusal: OutgoingHttpHeaders = {};
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(429, { ...refusal, 'content-type': 'application/json' });
    response.end('{"error": {"message": "slow down"}}');
  });
  server.on('upgrade', (_request, socket) => {
    const lines = Object.entries(refusal).map(([name, value]) => `${name}: ${String(value)}`);
    socket.end(
      ['HTTP/1.1 429 Too Many Requests', ...lines, 'content-length: 0', '', ''].join('\r\n'),
    );
  });
  let target: UpstreamTarget;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    target = upstreamTarget(
      { provider: 'openai', model: 'gpt-realtime', baseUrl: `http://127.0.0.1:${port}/v1` },
      { headerName: 'authorization', headerPrefix: 'Bearer ', value: 'sk-backend' },
    );
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const refusedWait = async (request: GatewayRequest): Promise<number | undefined> => {
    try {
      await new RealtimeConnector().connectRealtime({
        request,
        target,
        listener: { frame: () => undefined, closed: () => undefined },
        signal: new AbortController().signal,
      });
    } catch (error) {
      assert.ok(error instanceof DataPlaneError, String(error));
      assert.equal(error.httpStatus, 429);
      return error.retryAfterMs;
    }
    assert.fail('the backend refused, yet the session opened');
  };

  for (const [kind, request] of [
    ['a session (WebSocket)', REQUEST],
    ['a WebRTC call', withRealtimeCallOffer(REQUEST, { sdp: FAKE_SDP_OFFER })],
  ] as const) {
    it(`${kind}: Retry-After in seconds, as an HTTP date, retry-after-ms, and huge`, async () => {
      refusal = { 'retry-after': '7' };
      assert.equal(await refusedWait(request), 7_000);

      refusal = { 'retry-after': new Date(Date.now() + 30_000).toUTCString() };
      const dated = await refusedWait(request);
      assert.ok(dated !== undefined && dated > 27_000 && dated <= 30_000, `${dated} ms`);

      refusal = { 'retry-after-ms': '1500', 'retry-after': '2' };
      assert.equal(await refusedWait(request), 1_500);

      refusal = { 'retry-after': '99999999999' };
      assert.equal(await refusedWait(request), MAX_RETRY_AFTER_MS);

      refusal = {};
      assert.equal(await refusedWait(request), undefined);
    });
  }
});
