import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { InvalidSettingError } from '@aigw/config';
import { DataPlaneErrorCode, type GatewayRequest } from '@aigw/contracts/data-plane';
import { realtimeHopHandshakeMs } from './realtime-hop-settings';
import { RealtimeRouterClient, ROUTER_HOP_TIMEOUT_MS } from './realtime-wire';

const NAME = 'AI_GATEWAY_REALTIME_HOP_HANDSHAKE_MS';

describe('AI_GATEWAY_REALTIME_HOP_HANDSHAKE_MS', () => {
  it('defaults to 60 s, unset or empty', () => {
    assert.equal(ROUTER_HOP_TIMEOUT_MS, 60_000);
    assert.equal(realtimeHopHandshakeMs({}), 60_000);
    assert.equal(realtimeHopHandshakeMs({ [NAME]: '' }), 60_000);
  });

  it('is read from the environment', () => {
    assert.equal(realtimeHopHandshakeMs({ [NAME]: '120000' }), 120_000);
    assert.equal(realtimeHopHandshakeMs({ [NAME]: '250' }), 250);
  });

  it('refuses a value that is no whole number of ms > 0, naming the variable', () => {
    for (const bad of ['soon', '0', '-5', '1.5', '60s']) {
      assert.throws(
        () => realtimeHopHandshakeMs({ [NAME]: bad }),
        (error: Error) =>
          error instanceof InvalidSettingError &&
          error.message === `${NAME} must be a positive whole number, got "${bad}"`,
        bad,
      );
    }
  });

  it('refuses a value longer than a timer can wait (it would fire at once)', () => {
    assert.equal(realtimeHopHandshakeMs({ [NAME]: '2147483647' }), 2_147_483_647);
    assert.throws(
      () => realtimeHopHandshakeMs({ [NAME]: '2147483648' }),
      new InvalidSettingError(`${NAME} must be at most 2147483647 (ms), got "2147483648"`),
    );
  });
});

describe('the ingress’s realtime hop to a router that never answers the handshake', () => {
  it(
    'fails as an unreachable router once the configured bound passed',
    { timeout: 10_000 },
    async () => {
      const held: Socket[] = [];
      const hung = createTcpServer((socket) => void held.push(socket.on('error', () => undefined)));
      await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
      const port = (hung.address() as AddressInfo).port;
      try {
        const handshakeMs = realtimeHopHandshakeMs({ [NAME]: '150' });
        const client = new RealtimeRouterClient(
          new URL(`http://127.0.0.1:${port}`),
          undefined,
          handshakeMs,
        );
        const startedAt = Date.now();
        const failure = await client
          .connectRealtime(
            { requestedModel: 'voice', operation: 'realtime' } as GatewayRequest,
            { frame: () => undefined, closed: () => undefined },
            new AbortController().signal,
          )
          .then(
            () => assert.fail('a hop nobody answered opened'),
            (error: { code: string; message: string }) => error,
          );
        const waited = Date.now() - startedAt;
        assert.equal(failure.code, DataPlaneErrorCode.Internal);
        assert.match(failure.message, /router could not be reached .* in 150 ms/);
        assert.ok(waited >= 100 && waited < 5_000, `waited ${waited} ms`);
      } finally {
        for (const socket of held) socket.destroy();
        hung.close();
      }
    },
  );
});
