// An HTTP/1.1 request that offers to switch protocols the gateway does not speak
// (`Upgrade: h2c`, which `curl --http2` and Java's HttpClient send on every http:// URL) is
// an ordinary request: the offer is ignored, as RFC 9110 §7.8 lets a server do, and the
// request answered over HTTP/1.1. Only a WebSocket upgrade (Realtime) is taken up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startGatewayOnOneBackend,
  startSplitDataPlane,
  type AppProcess,
} from '@aigw/testing/processes';
import { rawExchange, type RawAnswer } from './raw-http-exchange';

function bodyOf(answer: RawAnswer): unknown {
  return JSON.parse(answer.body);
}

/** The headers `curl --http2 http://…` adds to a request. */
const H2C_OFFER =
  'connection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n';

function post(path: string, body: string, extraHeaders = H2C_OFFER): string {
  return (
    `POST ${path} HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n${body}`
  );
}

/** The split deployment's config and data, removed once every suite here has stopped. */
const dir = mkdtempSync(join(tmpdir(), 'aigw-upgrade-offers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The edge of `shape` on one OpenAI-compatible backend serving gpt-4o-mini at `baseUrl`. */
async function startEdge(shape: Shape, baseUrl: string, apps: AppProcess[]): Promise<number> {
  if (shape === 'all-in-one') {
    const gateway = await startGatewayOnOneBackend(baseUrl);
    apps.push(gateway);
    return gateway.port;
  }
  writeFileSync(
    join(dir, 'config.yaml'),
    `kind: AIGatewayRoute
metadata: {name: one-backend}
spec:
  backends:
  - {name: fake, provider: openai-compatible, baseUrl: "${baseUrl}", model: gpt-4o-mini}
`,
  );
  const env = { AI_GATEWAY_CONFIG: join(dir, 'config.yaml'), AI_GATEWAY_MISSING_SECRETS: 'warn' };
  return (await startSplitDataPlane(env, dir, apps)).ingress.port;
}

type Shape = 'all-in-one' | 'split';

for (const shape of ['all-in-one', 'split'] as const) {
  describe(`${shape}: requests offering an upgrade to HTTP/2 (h2c)`, () => {
    let upstream: FakeOpenAiUpstream;
    const apps: AppProcess[] = [];
    let port: number;

    before(async () => {
      upstream = await new FakeOpenAiUpstream().start();
      port = await startEdge(shape, upstream.baseUrl, apps);
    });
    after(async () => {
      await Promise.all(apps.map((app) => app.stop()));
      await upstream?.stop();
    });

    it('answers a chat completion offering h2c over HTTP/1.1, the call made once', async () => {
      const asked = upstream.calls.length;
      const body = JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      });
      const response = await rawExchange(port, post('/v1/chat/completions', body));

      assert.equal(response.status, 200, response.head);
      assert.doesNotMatch(response.head, /^HTTP\/1\.1 101/, 'not switched to HTTP/2');
      assert.equal((bodyOf(response) as { object: string }).object, 'chat.completion');
      assert.equal(upstream.calls.length, asked + 1);
    });

    it('answers a Messages call offering h2c in Anthropic shape', async () => {
      const body = JSON.stringify({
        model: 'gpt-4o-mini',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      });
      const response = await rawExchange(port, post('/v1/messages', body));

      assert.equal(response.status, 200, response.head);
      assert.equal((bodyOf(response) as { type: string }).type, 'message');
    });

    it('answers a GET offering h2c', async () => {
      const response = await rawExchange(
        port,
        `GET /v1/models HTTP/1.1\r\nhost: gateway\r\n${H2C_OFFER}\r\n`,
      );
      assert.equal(response.status, 200, response.head);
      assert.equal((bodyOf(response) as { object: string }).object, 'list');
    });

    it('still refuses a WebSocket upgrade on a path that is not Realtime, in OpenAI shape', async () => {
      const response = await rawExchange(
        port,
        'GET /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\nconnection: Upgrade\r\n' +
          'upgrade: websocket\r\nsec-websocket-version: 13\r\n' +
          'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      assert.equal(response.status, 404, response.head);
      assert.equal((bodyOf(response) as { error: { code: string } }).error.code, 'unknown_url');
    });

    it('refuses a WebSocket upgrade whose target is no URL with a 400, and keeps serving', async () => {
      // Node's parser passes an absolute-form target with a broken host; `new URL` throws on
      // it, which in the upgrade listener ended the process (exit 1, every client cut off).
      const response = await rawExchange(
        port,
        'GET http://[/v1/realtime?model=gpt-4o-mini HTTP/1.1\r\nhost: gateway\r\n' +
          'connection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\n' +
          'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      assert.equal(response.status, 400, response.head);
      const { error } = bodyOf(response) as { error: { type: string } };
      assert.equal(error.type, 'invalid_request_error');
      const after = await rawExchange(port, 'GET /v1/models HTTP/1.1\r\nhost: gateway\r\n\r\n');
      assert.equal(after.status, 200, after.head);
    });
  });
}
