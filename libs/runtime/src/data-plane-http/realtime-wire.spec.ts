import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import {
  encodeRouteRequest,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import { REALTIME_WIRE_PATH, serveRealtimeWire } from './realtime-wire';

describe('serveRealtimeWire', () => {
  const server: Server = createServer((_, res) => res.end());
  const behind: (number | undefined)[] = [];
  let hops: { close(): void };
  let port = 0;

  before(async () => {
    hops = serveRealtimeWire(server, () =>
      Promise.resolve({
        servedBy: { backend: 'b', provider: 'openai', model: 'm' },
        send: () => undefined,
        close: (code?: number) => void behind.push(code),
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.closeAllConnections());

  it(
    'ends its sessions with 1001 when the service stops, so the server can close',
    { timeout: 5_000 },
    async () => {
      const request = { requestedModel: 'voice', operation: 'realtime' } as GatewayRequest;
      const socket = new WebSocket(`ws://127.0.0.1:${port}${REALTIME_WIRE_PATH}`, {
        headers: {
          [WIRE_VERSION_HEADER]: WIRE_VERSION,
          'x-aigw-wire-message': Buffer.from(encodeRouteRequest(request)).toString('base64url'),
        },
      });
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => socket.once('close', resolve));
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      hops.close();
      assert.equal(await closed, 1001);
      assert.deepEqual(behind, [1001], 'the session behind the hop is closed too');
      await serverClosed;
    },
  );
});
