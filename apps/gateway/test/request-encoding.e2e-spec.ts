// Request bodies sent compressed (Content-Encoding): gzip, deflate and br are decoded
// before parsing; any other coding, or bytes that are not what they claim, get a clear
// error in the endpoint's own shape; the body limit holds for the decoded size. A JSON body
// declared in a charset other than UTF-8 is read in that charset; one no decoder knows is
// refused by name.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayOnOneBackend, type AppProcess } from '@aigw/testing/processes';

const MAX_BODY_BYTES = 64 * 1024;

describe('all-in-one gateway: compressed request bodies', () => {
  let upstream: FakeOpenAiUpstream;
  let gateway: AppProcess;

  before(async () => {
    upstream = await new FakeOpenAiUpstream().start();
    gateway = await startGatewayOnOneBackend(upstream.baseUrl, {
      AI_GATEWAY_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    });
  });

  after(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  const post = (path: string, coding: string, body: Buffer | string) =>
    fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-encoding': coding,
        'anthropic-version': '2023-06-01',
      },
      body,
    });
  const chatBody = (content: string) =>
    Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }));

  for (const [coding, encode] of [
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const) {
    it(`decodes a ${coding} body and forwards the request it carries`, async () => {
      const response = await post('/v1/chat/completions', coding, encode(chatBody(`in ${coding}`)));
      assert.equal(response.status, 200, await response.clone().text());
      const sent = upstream.calls.at(-1)?.body as { messages: { content: string }[] };
      assert.equal(sent.messages[0]?.content, `in ${coding}`);
      assert.equal(upstream.calls.at(-1)?.headers['content-encoding'], undefined);
    });
  }

  it('refuses a coding it does not decode, naming it, in OpenAI shape', async () => {
    const response = await post('/v1/chat/completions', 'zstd', gzipSync(chatBody('x')));
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as { error: { message: string; type: string } };
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /Content-Encoding 'zstd' is not supported/);
  });

  it('refuses bytes that are not the coding they claim, in Anthropic shape on /v1/messages', async () => {
    const response = await post('/v1/messages', 'gzip', '{"model":"gpt-4o-mini"}');
    assert.equal(response.status, 400);
    const body = (await response.json()) as { type: string; error: { message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.message, 'The request body is not valid gzip data');
  });

  it('reads a JSON body in the charset it declares, and refuses one no decoder knows, naming it, in each API shape', async () => {
    const text = JSON.stringify({
      model: 'gpt-4o-mini',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'café' }],
    });
    const send = (path: string, charset: string, body: Buffer) =>
      fetch(`${gateway.baseUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': `application/json; charset=${charset}`,
          'anthropic-version': '2023-06-01',
        },
        body,
      });
    const sentContent = () =>
      (upstream.calls.at(-1)?.body as { messages: { content: unknown }[] }).messages[0]?.content;
    // Read as UTF-8, a Latin-1 é became U+FFFD and went upstream as if the client said so.
    const latin1 = await send('/v1/chat/completions', 'ISO-8859-1', Buffer.from(text, 'latin1'));
    assert.equal(latin1.status, 200, await latin1.clone().text());
    assert.equal(sentContent(), 'café');
    // Read as UTF-8, UTF-16 was a JSON syntax error.
    const utf16 = await send('/v1/messages', 'utf-16le', Buffer.from(text, 'utf16le'));
    assert.equal(utf16.status, 200, await utf16.clone().text());
    assert.equal(
      JSON.stringify(sentContent()).includes('café'),
      true,
      JSON.stringify(sentContent()),
    );
    const asked = upstream.calls.length;
    const unknown = await send('/v1/chat/completions', 'x-klingon', Buffer.from(text));
    assert.equal(unknown.status, 400);
    const { error } = (await unknown.json()) as { error: { message: string; type: string } };
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /charset 'x-klingon' is not supported: send JSON as UTF-8/);
    const refused = await send('/v1/messages', 'x-klingon', Buffer.from(text));
    assert.equal(refused.status, 400);
    const anthropic = (await refused.json()) as { type: string; error: { message: string } };
    assert.equal(anthropic.type, 'error');
    assert.match(anthropic.error.message, /charset 'x-klingon' is not supported/);
    assert.equal(upstream.calls.length, asked, 'nothing went upstream for an unknown charset');
    for (const charset of ['utf-8', 'UTF8', '"utf-8"']) {
      const response = await send('/v1/chat/completions', charset, Buffer.from(text));
      assert.equal(response.status, 200, `${charset}: ${await response.clone().text()}`);
      const sent = upstream.calls.at(-1)?.body as { messages: { content: string }[] };
      assert.equal(sent.messages[0]?.content, 'café');
    }
  });

  it('holds the body limit for the decoded size: a small body inflating past it is a 413', async () => {
    // 48 KB of gzip that would inflate to 50 MB.
    const bomb = gzipSync(chatBody('a'.repeat(50_000_000)));
    assert.ok(bomb.length < MAX_BODY_BYTES);
    const started = Date.now();
    const response = await post('/v1/chat/completions', 'gzip', bomb);
    assert.equal(response.status, 413);
    assert.ok(Date.now() - started < 5_000, 'stopped at the limit, not inflated to the end');
    const again = await post('/v1/chat/completions', 'identity', chatBody('still serving'));
    assert.equal(again.status, 200);
  });
});
