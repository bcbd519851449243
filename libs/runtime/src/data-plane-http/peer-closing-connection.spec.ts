// A peer that drains (a rolling upgrade of the router or the provider-adapter) hangs up
// its idle keep-alive connections (closeDraining's sweep, the close itself). A call the
// caller sends on one of them in that moment reaches nothing the peer reads: it is sent
// again on a new connection (another replica behind the Service), as Go's transport does
// for a server closing an idle connection. Before, every such call failed: "the router is
// unreachable" (a 503 to the client) or, from the router, a provider-adapter "upstream
// error" that failed over to the next backend, on every rollout under load.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  DataPlaneError,
  type GatewayAnswer,
  type ProviderCall,
  type ProviderPort,
} from '@aigw/contracts/data-plane';
import { HttpProviderClient } from './http-provider-client';
import { registerProviderWire } from './provider-wire-server';
import { createWireServer } from './wire-server';
import { providerCall, request, servedBy, usage } from '../testing/wire-call-fixtures';

const ROUNDS = 20;

async function adapter(provider: ProviderPort) {
  const { fastify, served } = createWireServer({ maxBodyBytes: 1024 * 1024 });
  registerProviderWire(fastify, provider, (target) => ({
    ...target,
    requestTimeoutMs: 5_000,
    firstByteTimeoutMs: 5_000,
  }));
  let received = 0;
  fastify.addHook('onRequest', (_request, _reply, done) => {
    received++;
    done();
  });
  const port = await served.listen(0, '127.0.0.1');
  const client = new HttpProviderClient({ url: new URL(`http://127.0.0.1:${port}`) });
  return {
    client,
    received: () => received,
    /** What a draining wire server does to its idle connections. */
    hangUpIdle: () => fastify.server.closeIdleConnections(),
    close: async () => {
      await client.close();
      await served.close();
    },
  };
}

const json = async (): Promise<GatewayAnswer> => ({
  kind: 'json',
  status: 200,
  body: { id: 'x' },
  usage,
  servedBy,
});

async function* twoChunks() {
  yield { n: 1 };
  yield { n: 2 };
}

const stream = async (): Promise<GatewayAnswer> => ({
  kind: 'stream',
  status: 200,
  events: twoChunks(),
  usage: Promise.resolve(usage),
  servedBy,
});

const callOf = (streamed: boolean): ProviderCall =>
  providerCall(request({ stream: streamed }), new AbortController().signal);

/** Read whole, so its socket goes back to the pool idle. */
async function consume(answer: GatewayAnswer): Promise<void> {
  if (answer.kind === 'stream') for await (const _ of answer.events) void _;
}

describe('a call sent on a connection the peer is closing as idle', () => {
  for (const streamed of [false, true]) {
    it(`is sent again on a new connection (${streamed ? 'stream' : 'JSON'})`, async () => {
      const peer = await adapter({ invoke: streamed ? stream : json });
      const failures: string[] = [];
      try {
        for (let round = 0; round < ROUNDS; round++) {
          await consume(await peer.client.invoke(callOf(streamed)));
          // The peer's drain sweeps its idle connections as the next call goes out.
          peer.hangUpIdle();
          await peer.client.invoke(callOf(streamed)).then(consume, (error: unknown) => {
            failures.push(String(error));
          });
        }
        assert.deepEqual(failures, []);
        // Each call reached the peer once: none was answered twice.
        assert.equal(peer.received(), 2 * ROUNDS);
      } finally {
        await peer.close();
      }
    });
  }

  it('a peer that hangs up every time still fails the call, after a bounded number of tries', async () => {
    let accepted = 0;
    const rude: Server = createServer((socket) => {
      accepted++;
      socket.once('data', () => socket.destroy());
    });
    await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
    const client = new HttpProviderClient({
      url: new URL(`http://127.0.0.1:${(rude.address() as AddressInfo).port}`),
    });
    try {
      await assert.rejects(client.invoke(callOf(false)), (error: unknown) => {
        assert.ok(error instanceof DataPlaneError);
        assert.match(error.message, /provider-adapter at .* is unreachable/);
        return true;
      });
      assert.ok(accepted <= 3, `${accepted} connections`);
    } finally {
      await client.close();
      await new Promise((resolve) => rude.close(resolve));
    }
  });
});
