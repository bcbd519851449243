// A Realtime session's answers (text deltas, transcripts) go from the backend to the client
// as its events, which no answer rule reads: a route with security.responseValidation takes
// no session, rather than letting its answers past the rules unchecked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type {
  GatewayRequest,
  RealtimeConnection,
  RealtimeListener,
  RealtimeRouter,
  RouterPort,
} from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';
import { RealtimeEdge } from './realtime-edge';

function config(): GatewayConfig {
  const result = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: checked}
spec:
  backends: [{name: c, provider: openai, baseUrl: 'http://127.0.0.1:9', model: checked-voice}]
  security:
    responseValidation: {blockPatterns: ['BEGIN PRIVATE KEY']}
---
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends: [{name: o, provider: openai, baseUrl: 'http://127.0.0.1:9', model: open-voice}]
`,
    { env: {} },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

/** A router whose sessions are counted, each answering with a session.created. */
class FakeRouter implements RealtimeRouter {
  opened = 0;
  connectRealtime(
    _request: GatewayRequest,
    listener: RealtimeListener,
  ): Promise<RealtimeConnection> {
    this.opened++;
    listener.frame('{"type":"session.created"}');
    return Promise.resolve({
      servedBy: { backend: 'o', provider: 'openai', model: 'open-voice' },
      send: () => undefined,
      close: () => undefined,
    });
  }
}

const unused: RouterPort = {
  route: () => Promise.reject(new Error('unused')),
  listModels: () => [],
};

/** The upgrade's answer, up to its first blank line or the socket's close. */
function upgrade(port: number, model: string): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
      if (answer.includes('\r\n\r\n')) setTimeout(done, 50);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.write(
      [
        `GET /v1/realtime?model=${model} HTTP/1.1`,
        'Host: gateway',
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n'),
    );
  });
}

describe('a Realtime session on a route that checks answers', () => {
  const router = new FakeRouter();
  const edge = new RealtimeEdge(new IngressPipeline(config, unused, {}), { router });
  const server: Server = createServer((_, res) => res.end());
  let port = 0;

  before(async () => {
    server.on('upgrade', (request, socket, head) => edge.upgrade(request, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    edge.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('is refused with a 400 naming the rule set, no backend session opened', async () => {
    const answer = await upgrade(port, 'checked-voice');
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /security\.responseValidation/);
    assert.equal(router.opened, 0);
  });

  it('opens as before on a route that checks none', async () => {
    const answer = await upgrade(port, 'open-voice');
    assert.match(answer, /^HTTP\/1\.1 101 /);
    assert.equal(router.opened, 1);
  });
});
