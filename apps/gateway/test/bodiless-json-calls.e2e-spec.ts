// Calls that carry no body but still declare JSON: the Python SDKs (openai, anthropic)
// send `Content-Type: application/json` on every call, and httpx adds `Content-Length: 0`
// to a POST without a body, so `client.batches.cancel(id)`, `client.responses.cancel(id)`
// and `client.messages.batches.cancel(id)` arrive so (and a DELETE from `requests` does
// too). Each is served as the same call without the header, not refused as broken JSON.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayOnOneBackend, type AppProcess } from '@aigw/testing/processes';
import { rawExchange } from './raw-http-exchange';

/** A request with no body, as the Python SDKs send it (`declared`) or as the Node SDKs do. */
function bodiless(method: string, path: string, declared: boolean): string {
  const contentType = declared ? 'content-type: application/json\r\n' : '';
  const length = method === 'POST' || declared ? 'content-length: 0\r\n' : '';
  return `${method} ${path} HTTP/1.1\r\nhost: gateway\r\n${contentType}${length}connection: close\r\n\r\n`;
}

/** The answer's body without the per-request id Anthropic's shape carries. */
function withoutRequestId(body: string): string {
  return body.replace(/"request_id":"[^"]*"/, '"request_id":"…"');
}

describe('all-in-one gateway: calls without a body that declare JSON', () => {
  let upstream: FakeOpenAiUpstream;
  let gateway: AppProcess;

  before(async () => {
    upstream = await new FakeOpenAiUpstream().start();
    gateway = await startGatewayOnOneBackend(upstream.baseUrl);
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  const calls: readonly (readonly [string, string])[] = [
    ['POST', '/v1/batches/batch_unknown/cancel'],
    ['POST', '/v1/responses/resp_unknown/cancel'],
    ['POST', '/v1/messages/batches/msgbatch_unknown/cancel'],
    ['DELETE', '/v1/files/file-unknown'],
    ['DELETE', '/v1/responses/resp_unknown'],
  ];
  for (const [method, path] of calls) {
    it(`answers ${method} ${path} with Content-Type: application/json as without it`, async () => {
      const declared = await rawExchange(gateway.port, bodiless(method, path, true));
      const plain = await rawExchange(gateway.port, bodiless(method, path, false));

      assert.doesNotMatch(declared.body, /could not parse the JSON body/, declared.body);
      assert.equal(declared.status, plain.status, declared.body);
      assert.equal(withoutRequestId(declared.body), withoutRequestId(plain.body));
    });
  }

  it('still refuses a model call whose JSON body is empty, in its API shape', async () => {
    const chat = await rawExchange(gateway.port, bodiless('POST', '/v1/chat/completions', true));
    assert.equal(chat.status, 400, chat.body);
    assert.equal(
      (JSON.parse(chat.body) as { error: { type: string } }).error.type,
      'invalid_request_error',
    );
    const messages = await rawExchange(gateway.port, bodiless('POST', '/v1/messages', true));
    assert.equal(messages.status, 400, messages.body);
    assert.equal((JSON.parse(messages.body) as { type: string }).type, 'error');
    assert.equal(upstream.calls.length, 0, 'no call made');
  });
});
