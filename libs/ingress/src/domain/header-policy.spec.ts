import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardableHeaders } from './header-policy';

describe('forwardableHeaders', () => {
  it('never forwards credentials, hop-by-hop or framing headers', () => {
    const forwarded = forwardableHeaders(
      {
        authorization: 'Bearer client-key',
        'x-api-key': 'client-key',
        'openai-organization': 'org-of-the-client',
        'openai-project': 'proj-of-the-client',
        'x-amz-security-token': 'client-session',
        'x-amz-date': '20260101T000000Z',
        cookie: 'session=1',
        connection: 'keep-alive',
        'transfer-encoding': 'chunked',
        'content-length': '42',
        'content-type': 'application/json',
        // A compressed client body is decoded at the edge: the provider gets plain JSON.
        'content-encoding': 'gzip',
        'accept-encoding': 'br',
        'x-forwarded-for': '10.0.0.1',
        'x-ai-gateway-cache': 'hit',
      },
      [],
    );
    assert.deepEqual(forwarded, {});
  });

  it('forwards other headers lower-cased, minus the route stripHeaders, joining repeats', () => {
    const forwarded = forwardableHeaders(
      { 'OpenAI-Beta': 'assistants=v2', 'x-internal-auth': 's', 'x-tag': ['a', 'b'] },
      ['x-internal-auth'],
    );
    assert.deepEqual(forwarded, { 'openai-beta': 'assistants=v2', 'x-tag': 'a, b' });
  });

  it('drops the internal hops’ own headers a client sends (its x-aigw-internal-token)', () => {
    const forwarded = forwardableHeaders(
      {
        'x-aigw-internal-token': 'forged-by-the-client-0123456789',
        'X-Aigw-Wire': '1',
        'x-tag': 'kept',
      },
      [],
    );
    assert.deepEqual(forwarded, { 'x-tag': 'kept' });
  });
});
