// The health probe behind the ingress's and router's /readyz: it asks whether the peer is
// there, so it must answer within its timeout whatever the calls in flight, and fail
// within it when the peer does not answer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  DataPlaneErrorCode,
  WIRE_PATHS,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
} from '@aigw/contracts/data-plane';
import { createWireServer } from './wire-server';
import { WireClient } from './wire-client';

const wireClient = (port: number, connections: number) =>
  new WireClient({
    url: new URL(`http://127.0.0.1:${port}`),
    peer: 'router',
    unreachableCode: DataPlaneErrorCode.NoBackendAvailable,
    connections,
  });

describe('WireClient.probe', () => {
  it('answers while every call socket is held by an answer in flight', async () => {
    const { fastify, served } = createWireServer({ maxBodyBytes: 1024 });
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    fastify.get(WIRE_PATHS.health, async (_request, reply) =>
      reply.header(WIRE_VERSION_HEADER, WIRE_VERSION).send({ ok: true }),
    );
    fastify.post('/wire/long', async (_request, reply) => {
      started++;
      await released;
      return reply.header(WIRE_VERSION_HEADER, WIRE_VERSION).send({ ok: true });
    });
    const port = await served.listen(0, '127.0.0.1');
    const client = wireClient(port, 2);
    // Two long answers (streams, say) hold both call sockets.
    const long = [1, 2].map(() =>
      client
        .call({
          path: '/wire/long',
          body: '{}',
          signal: new AbortController().signal,
          stream: false,
          timeoutMs: 30_000,
          chunk: () => ({}),
        })
        // Not an answer the router gives: only holding the socket matters here.
        .catch(() => undefined),
    );
    try {
      while (started < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      const since = Date.now();
      assert.equal(await client.probe(1_000), true, 'the peer is there, only busy');
      assert.ok(Date.now() - since < 1_000, 'answered without waiting for a call socket');
    } finally {
      release();
      await Promise.all(long);
      await client.close();
      await served.close();
    }
  });

  it('fails within its timeout when the peer takes the connection and says nothing', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const client = wireClient((silent.address() as AddressInfo).port, 4);
    try {
      const since = Date.now();
      assert.equal(await client.probe(300), false);
      assert.ok(Date.now() - since < 1_500, `gave up after ${Date.now() - since} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await client.close();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
