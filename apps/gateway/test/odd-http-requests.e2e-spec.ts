// Requests Node's HTTP server would answer on its own, before any route: an HTTP/1.1 request
// without `Host` (Node's bare 400, no body), an `Expect` other than 100-continue (a bare
// 417), and `CONNECT` (closed unanswered). Each is answered in the error shape of the API its
// path belongs to (OpenAI's for CONNECT, which names no path), its connection closed, counted
// in ai_gateway_client_errors_total, in both deployment shapes. And an absolute-form target
// (`POST http://host/v1/messages`), served and refused as its path is.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { metricSum } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import {
  startGatewayOnOneBackend,
  startSplitDataPlane,
  type AppProcess,
} from '@aigw/testing/processes';
import { rawExchange, type RawAnswer } from './raw-http-exchange';

const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

/** A JSON POST written as given: `headers` are the lines after the request line. */
function post(path: string, headers: string, body = CHAT): string {
  return (
    `POST ${path} HTTP/1.1\r\n${headers}content-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

function bodyOf(answer: RawAnswer): unknown {
  return JSON.parse(answer.body);
}

/** The split deployment's config and data, removed once every suite here has stopped. */
const dir = mkdtempSync(join(tmpdir(), 'aigw-odd-requests-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Shape = 'all-in-one' | 'split';

/** A body limit the oversized cases pass without writing megabytes, and browsers allowed. */
const MAX_BODY_BYTES = 64 * 1024;
const EDGE_ENV = {
  AI_GATEWAY_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  AI_GATEWAY_CORS_ORIGINS: '*',
};

/** The public edge of `shape` on one OpenAI-compatible backend serving gpt-4o-mini. */
async function startEdge(shape: Shape, baseUrl: string, apps: AppProcess[]): Promise<AppProcess> {
  if (shape === 'all-in-one') {
    const gateway = await startGatewayOnOneBackend(baseUrl, EDGE_ENV);
    apps.push(gateway);
    return gateway;
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
  const env = {
    AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
    AI_GATEWAY_MISSING_SECRETS: 'warn',
    ...EDGE_ENV,
  };
  return (await startSplitDataPlane(env, dir, apps)).ingress;
}

for (const shape of ['all-in-one', 'split'] as const) {
  describe(`${shape}: odd HTTP requests`, () => {
    let upstream: FakeOpenAiUpstream;
    const apps: AppProcess[] = [];
    let edge: AppProcess;

    before(async () => {
      upstream = await new FakeOpenAiUpstream().start();
      edge = await startEdge(shape, upstream.baseUrl, apps);
    });
    after(async () => {
      await Promise.all(apps.map((app) => app.stop()));
      await upstream?.stop();
    });

    const clientErrors = async (reason: string): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${edge.adminPort}/metrics`)).text();
      return metricSum(text, 'ai_gateway_client_errors_total', { reason });
    };

    it('answers an HTTP/1.1 chat call without Host with a 400 in OpenAI shape, counted, nothing called', async () => {
      const counted = await clientErrors('missing-host');
      const answer = await rawExchange(edge.port, post('/v1/chat/completions', ''));

      assert.equal(answer.status, 400, answer.head);
      assert.match(answer.head, /\r\ncontent-type: application\/json/i);
      assert.match(answer.head, /\r\nconnection: close/i);
      const { error } = bodyOf(answer) as { error: { type: string; message: string } };
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, /Host/);
      assert.equal(await clientErrors('missing-host'), counted + 1);
      assert.equal(upstream.calls.length, 0, 'nothing reached the provider');
    });

    it('answers a Messages call without Host in Anthropic shape', async () => {
      const answer = await rawExchange(edge.port, post('/v1/messages', ''));
      assert.equal(answer.status, 400, answer.head);
      const body = bodyOf(answer) as { type: string; error: { type: string } };
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'invalid_request_error');
    });

    it('answers a Gemini call without Host in Google shape', async () => {
      const answer = await rawExchange(
        edge.port,
        post('/v1beta/models/gpt-4o-mini:generateContent', '', '{"contents":[]}'),
      );
      assert.equal(answer.status, 400, answer.head);
      const { error } = bodyOf(answer) as { error: { code: number; status: string } };
      assert.deepEqual([error.code, error.status], [400, 'INVALID_ARGUMENT']);
    });

    it('still serves an HTTP/1.0 request without Host, which HTTP/1.0 does not require', async () => {
      const answer = await rawExchange(edge.port, 'GET /v1/models HTTP/1.0\r\n\r\n');
      assert.equal(answer.status, 200, answer.head);
      assert.equal((bodyOf(answer) as { object: string }).object, 'list');
    });

    it('answers an Expect it cannot meet with a 417 in OpenAI shape, counted, nothing called', async () => {
      const counted = await clientErrors('unmet-expectation');
      const answer = await rawExchange(
        edge.port,
        post('/v1/chat/completions', 'host: gateway\r\nexpect: 200-ok\r\n'),
      );

      assert.equal(answer.status, 417, answer.head);
      assert.match(answer.head, /\r\nconnection: close/i);
      const { error } = bodyOf(answer) as { error: { type: string; code: string } };
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.code, 'expectation_failed');
      assert.equal(await clientErrors('unmet-expectation'), counted + 1);
      assert.equal(upstream.calls.length, 0, 'nothing reached the provider');
    });

    it('answers an unmet Expect in Anthropic shape on /v1/messages and Google shape on /v1beta', async () => {
      const messages = await rawExchange(
        edge.port,
        post('/v1/messages', 'host: gateway\r\nexpect: 200-ok\r\n'),
      );
      assert.equal(messages.status, 417, messages.head);
      assert.equal((bodyOf(messages) as { type: string }).type, 'error');

      const gemini = await rawExchange(
        edge.port,
        post(
          '/v1beta/models/gpt-4o-mini:generateContent',
          'host: gateway\r\nexpect: 200-ok\r\n',
          '{"contents":[]}',
        ),
      );
      assert.equal(gemini.status, 417, gemini.head);
      assert.equal((bodyOf(gemini) as { error: { code: number } }).error.code, 417);
    });

    it('answers CONNECT (a client taking the gateway for a forward proxy) with a 405 in OpenAI shape, counted', async () => {
      const counted = await clientErrors('connect');
      const answer = await rawExchange(
        edge.port,
        'CONNECT api.openai.com:443 HTTP/1.1\r\nhost: api.openai.com:443\r\n\r\n',
      );

      assert.equal(answer.status, 405, answer.head);
      assert.match(answer.head, /\r\nallow: GET, HEAD, POST, DELETE/i);
      assert.match(answer.head, /\r\nconnection: close/i);
      const { error } = bodyOf(answer) as { error: { type: string; code: string } };
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.code, 'method_not_allowed');
      assert.equal(await clientErrors('connect'), counted + 1);
      assert.equal((await fetch(`${edge.baseUrl}/v1/models`)).status, 200, 'still serving');
    });

    it('reads an absolute-form target (a client using the gateway as its HTTP proxy) as its path', async () => {
      // RFC 9112 §3.2.2: a server must accept `POST http://host/v1/messages`. Routed alike,
      // its errors too: the shape, the 405 and the metric's route go by the path.
      const refusedMessages = async () => {
        const text = await (await fetch(`http://127.0.0.1:${edge.adminPort}/metrics`)).text();
        return metricSum(text, 'ai_gateway_requests_total', { route: 'messages', status: '400' });
      };
      const counted = await refusedMessages();
      const messages = await rawExchange(
        edge.port,
        post('http://gateway/v1/messages', 'host: gateway\r\n', '{"model":'),
      );
      assert.equal(messages.status, 400, messages.head);
      assert.equal((bodyOf(messages) as { type: string }).type, 'error', messages.body);

      const gemini = await rawExchange(
        edge.port,
        post('http://gateway/v1beta/models/gpt-4o-mini:generateContent', 'host: gateway\r\n', '{'),
      );
      assert.equal(gemini.status, 400, gemini.head);
      const { error } = bodyOf(gemini) as { error: { code: number; status: string } };
      assert.deepEqual([error.code, error.status], [400, 'INVALID_ARGUMENT'], gemini.body);

      const get = await rawExchange(
        edge.port,
        'GET http://gateway/v1/chat/completions HTTP/1.1\r\nhost: gateway\r\n\r\n',
      );
      assert.equal(get.status, 405, get.head);
      assert.match(get.head, /\r\nallow: POST\r\n/i);

      assert.equal(await refusedMessages(), counted + 1, 'counted under its route, not other');
    });

    it('never echoes the userinfo of an absolute-form target', async () => {
      const answer = await rawExchange(
        edge.port,
        'GET http://user:s3cret-pass@gateway/v1/nothing HTTP/1.1\r\nhost: gateway\r\n\r\n',
      );
      assert.equal(answer.status, 404, answer.head);
      assert.doesNotMatch(answer.body, /s3cret/);
      assert.match(answer.body, /Cannot GET \/v1\/nothing/);
    });

    it('answers a request with two Host headers with a 400 in OpenAI shape, counted, nothing called', async () => {
      // RFC 9112 §3.2: more than one Host field line is a 400; joined, the two were served.
      const counted = await clientErrors('duplicate-host');
      const asked = upstream.calls.length;
      const answer = await rawExchange(
        edge.port,
        post('/v1/chat/completions', 'host: gateway\r\nhost: other.example\r\n'),
      );

      assert.equal(answer.status, 400, answer.head);
      assert.match(answer.head, /\r\nconnection: close/i);
      const { error } = bodyOf(answer) as { error: { type: string; message: string } };
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, /Host/);
      assert.equal(await clientErrors('duplicate-host'), counted + 1);
      assert.equal(upstream.calls.length, asked, 'nothing reached the provider');
    });

    it('answers two Host headers on /v1/messages in Anthropic shape', async () => {
      const answer = await rawExchange(
        edge.port,
        post('/v1/messages', 'host: gateway\r\nhost: gateway\r\n'),
      );
      assert.equal(answer.status, 400, answer.head);
      const body = bodyOf(answer) as { type: string; error: { message: string } };
      assert.equal(body.type, 'error');
      assert.match(body.error.message, /Host/);
    });

    it('answers a transfer coding other than chunked with a 501 in OpenAI shape, counted, nothing called', async () => {
      // RFC 9112 §6.1: a transfer coding the server does not understand is a 501.
      const counted = await clientErrors('unknown-transfer-coding');
      const asked = upstream.calls.length;
      const gzipped = gzipSync(CHAT);
      const answer = await rawExchange(
        edge.port,
        `POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n` +
          `transfer-encoding: gzip, chunked\r\n\r\n${gzipped.length.toString(16)}\r\n` +
          `${gzipped.toString('latin1')}\r\n0\r\n\r\n`,
      );

      assert.equal(answer.status, 501, answer.head);
      assert.match(answer.head, /\r\nconnection: close/i);
      const { error } = bodyOf(answer) as {
        error: { type: string; code: string; message: string };
      };
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.code, 'not_implemented');
      assert.match(error.message, /Transfer-Encoding/);
      assert.equal(await clientErrors('unknown-transfer-coding'), counted + 1);
      assert.equal(upstream.calls.length, asked, 'nothing reached the provider');
    });

    it('answers a transfer coding other than chunked on /v1beta in Google shape', async () => {
      const answer = await rawExchange(
        edge.port,
        `POST /v1beta/models/gpt-4o-mini:generateContent HTTP/1.1\r\nhost: gateway\r\n` +
          `content-type: application/json\r\ntransfer-encoding: deflate, chunked\r\n\r\n0\r\n\r\n`,
      );
      assert.equal(answer.status, 501, answer.head);
      const { error } = bodyOf(answer) as { error: { code: number; status: string } };
      assert.deepEqual([error.code, error.status], [501, 'UNIMPLEMENTED']);
    });

    it('answers 413 before 100 Continue when the declared body is over the limit', async () => {
      // The client waits for 100 Continue before sending; a 413 first spares it the upload.
      const asked = upstream.calls.length;
      const answer = await rawExchange(
        edge.port,
        `POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n` +
          `expect: 100-continue\r\ncontent-length: ${MAX_BODY_BYTES + 1}\r\n\r\n`,
      );

      assert.equal(answer.status, 413, answer.head);
      assert.doesNotMatch(answer.head, /100 Continue/);
      assert.match(answer.head, /\r\nconnection: close/i);
      const { error } = bodyOf(answer) as { error: { type: string; code: string } };
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.code, 'request_too_large');
      assert.equal(upstream.calls.length, asked, 'nothing reached the provider');
    });

    it('answers a CORS preflight without Host with the 400, not the preflight 204', async () => {
      const answer = await rawExchange(
        edge.port,
        'OPTIONS /v1/chat/completions HTTP/1.1\r\norigin: https://app.example.com\r\n' +
          'access-control-request-method: POST\r\n\r\n',
      );
      assert.equal(answer.status, 400, answer.head);
      const { error } = bodyOf(answer) as { error: { type: string; message: string } };
      assert.match(error.message, /Host/);
    });

    it('still answers a CORS preflight with Host', async () => {
      const answer = await rawExchange(
        edge.port,
        'OPTIONS /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\n' +
          'origin: https://app.example.com\r\naccess-control-request-method: POST\r\n' +
          'connection: close\r\n\r\n',
      );
      assert.equal(answer.status, 204, answer.head);
      assert.match(answer.head, /\r\naccess-control-allow-origin: \*/i);
    });

    it('still serves a call that expects 100-continue', async () => {
      const asked = upstream.calls.length;
      const answer = await rawExchange(
        edge.port,
        post(
          '/v1/chat/completions',
          'host: gateway\r\nexpect: 100-continue\r\nconnection: close\r\n',
        ),
      );
      assert.match(answer.head, /^HTTP\/1\.1 100 Continue/);
      assert.match(answer.body, /^HTTP\/1\.1 200 OK/);
      assert.equal(upstream.calls.length, asked + 1);
    });
  });
}
