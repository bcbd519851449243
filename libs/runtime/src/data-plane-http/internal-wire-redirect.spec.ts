// Every internal hop carries AI_GATEWAY_INTERNAL_TOKEN. A peer (or whatever answers at its
// URL) that redirects must get a clear data-plane error back, and the token must never be
// sent on to where the redirect points: here another port on the same host.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type ProviderCall,
} from '@aigw/contracts/data-plane';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { HttpHeldObjectClient } from './held-object-wire';
import { HttpProviderClient } from './http-provider-client';
import { HttpRouterClient } from './http-router-client';
import { INTERNAL_TOKEN_HEADER, InternalToken } from './internal-auth';
import { RealtimeProviderClient, RealtimeRouterClient } from './realtime-wire';

const TOKEN = 'internal-token-0123456789abcdef';
const PROBE_HEADER = 'x-aigw-held-probe';

const request = (stream: boolean): GatewayRequest =>
  gatewayChatRequest({ model: 'gpt-4' }, { requestId: 'r1', requestedModel: 'gpt-4', stream });

const target = {
  backendName: 'b1',
  provider: 'openai',
  model: 'upstream-model',
  requestTimeoutMs: 5_000,
  firstByteTimeoutMs: 5_000,
};
const backend = { backendName: 'b1', provider: 'openai', requestTimeoutMs: 5_000 };

async function* lines(): AsyncGenerator<Uint8Array> {
  yield Buffer.from('{"a":1}\n');
}

function redirected(status: number, peer: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof DataPlaneError, String(error));
    assert.equal(error.code, DataPlaneErrorCode.Internal);
    assert.match(error.message, new RegExp(`answered ${status}, a redirect`));
    assert.match(error.message, peer);
    assert.ok(!error.message.includes(TOKEN));
    return true;
  };
}

describe('internal wire clients answered with a redirect', () => {
  /** Every request the other port got, upgrades included: none may arrive. */
  const reachedElsewhere: IncomingHttpHeaders[] = [];
  const elsewhere = createServer((req, res) => {
    reachedElsewhere.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  elsewhere.on('upgrade', (req, socket) => {
    reachedElsewhere.push(req.headers);
    socket.destroy();
  });
  let elsewhereUrl = '';

  /** Tokens the redirecting peer was sent: proof each call did reach it, token and all. */
  const tokensAtPeer: (string | string[] | undefined)[] = [];
  /** Whether the peer takes the held-object probe (so an upload goes on to its streamed route). */
  let probeTaken = false;
  const peer = createServer((req, res) => {
    tokensAtPeer.push(req.headers[INTERNAL_TOKEN_HEADER]);
    req.resume();
    req.on('end', () => {
      if (probeTaken && req.headers[PROBE_HEADER] === '1') {
        res.writeHead(204).end();
        return;
      }
      res.writeHead(307, { location: `${elsewhereUrl}${req.url}`, 'content-length': '0' });
      res.end();
    });
  });
  peer.on('upgrade', (req, socket) => {
    tokensAtPeer.push(req.headers[INTERNAL_TOKEN_HEADER]);
    socket.end(
      `HTTP/1.1 307 Temporary Redirect\r\nLocation: ${elsewhereUrl}${req.url}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
  });
  let peerUrl: URL;
  const token = new InternalToken(TOKEN);

  before(async () => {
    for (const server of [elsewhere, peer]) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    peerUrl = new URL(`http://127.0.0.1:${(peer.address() as AddressInfo).port}`);
  });
  after(async () => {
    for (const server of [elsewhere, peer]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /** Runs `calls` against the redirecting peer: each reached it with the token, none went on. */
  async function expectNotFollowed(calls: number, run: () => Promise<void>): Promise<void> {
    tokensAtPeer.length = 0;
    await run();
    assert.deepEqual(tokensAtPeer, new Array<string>(calls).fill(TOKEN));
    assert.deepEqual(reachedElsewhere, []);
  }

  it('ingress to router (HttpRouterClient), plain and streamed', async () => {
    const client = new HttpRouterClient({ url: peerUrl, listModels: () => [], token });
    try {
      await expectNotFollowed(2, async () => {
        for (const stream of [false, true]) {
          await assert.rejects(
            client.route(request(stream), new AbortController().signal),
            redirected(307, /the router/),
          );
        }
      });
    } finally {
      await client.close();
    }
  });

  it('router to provider-adapter (HttpProviderClient), plain and streamed', async () => {
    const client = new HttpProviderClient({ url: peerUrl, token });
    try {
      await expectNotFollowed(2, async () => {
        for (const stream of [false, true]) {
          const call: ProviderCall = {
            request: request(stream),
            target,
            signal: new AbortController().signal,
          };
          await assert.rejects(client.invoke(call), redirected(307, /the provider-adapter/));
        }
      });
    } finally {
      await client.close();
    }
  });

  it('Files and Batch hops (HttpHeldObjectClient): a whole call, a streamed open, the route probe', async () => {
    const client = new HttpHeldObjectClient(peerUrl, token);
    const data = { contentType: 'application/jsonl', data: lines() };
    await expectNotFollowed(3, async () => {
      await assert.rejects(client.send(backend, 'GET', '/files/f1'), redirected(307, /peer/));
      await assert.rejects(client.open(backend, '/files/f1/content'), redirected(307, /peer/));
      // The upload asks the peer for its streamed route first: that probe is redirected.
      await assert.rejects(client.upload(backend, '/files', data), redirected(307, /peer/));
    });
  });

  it('Files and Batch hops: a streamed upload (undici) past a probe the peer takes', async () => {
    probeTaken = true;
    try {
      const client = new HttpHeldObjectClient(peerUrl, token);
      const data = { contentType: 'application/jsonl', data: lines() };
      await expectNotFollowed(2, async () => {
        await assert.rejects(client.upload(backend, '/files', data), redirected(307, /peer/));
      });
    } finally {
      probeTaken = false;
    }
  });

  it('Realtime hops (WebSocket upgrade), to the router and to the provider-adapter', async () => {
    const listener = { frame: () => undefined, closed: () => undefined };
    await expectNotFollowed(2, async () => {
      await assert.rejects(
        new RealtimeRouterClient(peerUrl, token, 5_000).connectRealtime(
          { ...request(false), operation: 'realtime' },
          listener,
          new AbortController().signal,
        ),
        redirected(307, /the router/),
      );
      await assert.rejects(
        new RealtimeProviderClient(peerUrl, token).connectRealtime({
          request: { requestedModel: 'voice', operation: 'realtime' } as GatewayRequest,
          target,
          listener,
          signal: new AbortController().signal,
        }),
        redirected(307, /the provider-adapter/),
      );
    });
  });
});
