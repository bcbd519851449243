import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { OpenAiExceptionFilter, type MountedMethodsAt } from './openai-exception.filter';

/** What the filter sent: status, headers and body. */
interface Sent {
  status?: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** Runs the filter on a request the router found no route for, as Nest reports it. */
function refuse(method: string, url: string, mounted?: MountedMethodsAt): Sent {
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
  new OpenAiExceptionFilter((error) => unexpected.push(error), undefined, mounted).catch(
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

  it('answers a mounted module’s path (the analytics API) with a 405 from its own table', () => {
    const analytics: MountedMethodsAt = (url) =>
      url.split('?')[0] === '/v1/analytics/usage' ? ['GET', 'HEAD'] : undefined;
    const sent = refuse('POST', '/v1/analytics/usage?from=x', analytics);
    assert.equal(sent.status, 405);
    assert.equal(sent.headers.allow, 'GET, HEAD');
    assert.match(
      JSON.stringify(sent.body),
      /POST is not allowed on \/v1\/analytics\/usage; use GET or HEAD/,
    );
    // Served by that method (no route on this edge after all), or another path: a 404.
    assert.equal(refuse('GET', '/v1/analytics/usage', analytics).status, 404);
    assert.equal(refuse('POST', '/v1/analytics/nope', analytics).status, 404);
    // The public API's own table still comes first.
    assert.equal(refuse('GET', '/v1/chat/completions', analytics).headers.allow, 'POST');
  });

  it('knows no analytics path where none is mounted (the split ingress): a 404', () => {
    assert.equal(refuse('POST', '/v1/analytics/usage').status, 404);
  });
});
