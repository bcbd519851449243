// A peer's error answer to a streamed call may arrive in several reads (a long message
// crosses TCP segments between pods): a character cut between two reads must reach the
// client whole, never as U+FFFD.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  encodeWireError,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
} from '@aigw/contracts/data-plane';
import { WireClient } from './wire-client';

const MESSAGE = 'Le modèle « 中文 » est indisponible 😀';

describe('WireClient: a streamed call refused by the peer', () => {
  it("keeps the peer's error message whole when a character is cut between reads", async () => {
    const body = Buffer.from(
      JSON.stringify(
        encodeWireError(new DataPlaneError(DataPlaneErrorCode.UpstreamError, MESSAGE)),
      ),
    );
    const cut = body.indexOf(Buffer.from('😀')) + 2;
    const server = createServer((request, response) => {
      request.resume();
      response.writeHead(502, {
        'content-type': 'application/json',
        'content-length': body.length,
        [WIRE_VERSION_HEADER]: WIRE_VERSION,
      });
      response.socket?.setNoDelay(true);
      response.write(body.subarray(0, cut));
      setTimeout(() => response.end(body.subarray(cut)), 50);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new WireClient({
      url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
      peer: 'router',
      unreachableCode: DataPlaneErrorCode.NoBackendAvailable,
      connections: 1,
    });
    try {
      const refused = await client
        .call({
          path: '/wire/stream',
          body: '{}',
          signal: new AbortController().signal,
          stream: true,
          timeoutMs: 10_000,
          chunk: () => ({}),
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      assert.ok(refused instanceof DataPlaneError, String(refused));
      assert.equal(refused.message, MESSAGE);
    } finally {
      await client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
