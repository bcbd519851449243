import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { OpenAiExceptionFilter } from './openai-exception.filter';

/** What the filter sent: status, headers and body. */
interface Sent {
  status?: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** Runs the filter on a request the router found no route for, as Nest reports it. */
function refuse(method: string, url: string): Sent {
  const sent: Sent = { headers: {} };
  const reply = {
    raw: { headersSent: false, writableEnded: false },
    header(name: string, value: string) {
      sent.headers[name] = value;
      return reply;
    },
    code(status: number) {
      sent.status = status;
      return reply;
    },
    send(body: unknown) {
      sent.body = body;
      return reply;
    },
  };
  const request = { method, url, id: 'req-1', raw: { complete: true } };
  const host = {
    switchToHttp: () => ({ getResponse: () => reply, getRequest: () => request }),
  } as unknown as ArgumentsHost;
  const unexpected: unknown[] = [];
  // Nest's own not-found message quotes the whole URL, query and all.
  new OpenAiExceptionFilter((error) => unexpected.push(error)).catch(
    new NotFoundException(`Cannot ${method} ${url}`),
    host,
  );
  assert.deepEqual(unexpected, []);
  return sent;
}

describe('OpenAiExceptionFilter on a path or method not served', () => {
  type Body = { type?: string; error?: { type?: string; status?: string } };
  for (const [api, url, shaped] of [
    ['OpenAI', '/v1/nothing?api_key=sk-secret-123&x=1', (b: Body) => b.error?.type],
    ['Anthropic', '/v1/messages/nothing?key=sk-secret-123', (b: Body) => b.type],
    ['Google', '/v1beta/nothing?key=AIzaSecret123', (b: Body) => b.error?.status],
  ] as const) {
    it(`names the path without its query in a ${api}-shaped 404`, () => {
      const sent = refuse('GET', url);
      assert.equal(sent.status, 404);
      assert.ok(shaped(sent.body as Body), JSON.stringify(sent.body));
      const text = JSON.stringify(sent.body);
      assert.ok(!text.includes('ecret'), text);
      assert.ok(text.includes(`Cannot GET ${url.split('?')[0]}`), text);
    });
  }

  it('names the path without its query in a 405', () => {
    const sent = refuse('GET', '/v1/chat/completions?key=sk-secret-123');
    assert.equal(sent.status, 405);
    assert.equal(sent.headers.allow, 'POST');
    const text = JSON.stringify(sent.body);
    assert.ok(!text.includes('ecret'), text);
    assert.ok(text.includes('/v1/chat/completions'), text);
  });
});
