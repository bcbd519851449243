import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gatewayChatRequest, upstreamTarget } from '@aigw/testing/fake-provider';
import { OpenAiCompatibleAdapter } from '../openai-compatible/openai-compatible.adapter';
import { upstreamHttpError } from './upstream-failure';

// An Azure key is 32 hex digits, a self-hosted server's key any string: no shape to match.
const AZURE_STYLE_KEY = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const secretOf = (value: string) => ({ reveal: () => value });

describe('upstream error text: the backend key and AWS credentials are never passed on', () => {
  it("removes the backend's own key, whatever its shape, from a provider's error message", () => {
    const error = upstreamHttpError(
      'azure-east',
      401,
      JSON.stringify({ error: { message: `Access denied: key ${AZURE_STYLE_KEY} is invalid` } }),
      {},
      secretOf(AZURE_STYLE_KEY),
    );
    assert.doesNotMatch(error.message, new RegExp(AZURE_STYLE_KEY));
    assert.match(error.message, /Access denied: key \[REDACTED\] is invalid/);
  });

  it('leaves a message alone when the key is too short to search for', () => {
    const error = upstreamHttpError(
      'local',
      400,
      '{"error":{"message":"bad abc"}}',
      {},
      secretOf('abc'),
    );
    assert.match(error.message, /bad abc$/);
  });

  it('removes the session token, access key id and signature an AWS signature refusal quotes', () => {
    const token = 'IQoJb3JpZ2luX2VjEHgaCXVzLWVhc3QtMSJHMEUCIQDsessiontoken';
    const message =
      'The request signature we calculated does not match the signature you provided.\n\n' +
      "The Canonical String for this request should have been\n'POST\n/model/x/invoke\n\n" +
      `host:bedrock-runtime.us-east-1.amazonaws.com\nx-amz-security-token:${token}\n'` +
      ' Authorization: AWS4-HMAC-SHA256 Credential=ASIAABCDEFGHIJKLMNOP/20260101/us-east-1/bedrock/aws4_request' +
      ' (Bearer abcdefghijklmnop.qrs)';
    const error = upstreamHttpError('bedrock', 403, JSON.stringify({ message }), {});
    assert.doesNotMatch(error.message, /IQoJb3JpZ2lu|ASIAABCDEFGHIJKLMNOP|abcdefghijklmnop/);
    assert.match(error.message, /x-amz-security-token:\[REDACTED\]/);
  });

  it('keeps the plain words a provider writes after "bearer", and removes a token there', () => {
    const prose = 'Missing bearer authentication in header; bearer tokens only. Bearer token.';
    const kept = upstreamHttpError('local', 401, JSON.stringify({ message: prose }), {});
    assert.match(kept.message, new RegExp(`answered 401: ${prose.replace(/[.;]/g, '\\$&')}$`));
    for (const token of ['eyJhbGciOiJIUzI1NiJ9.e30.sig', 'abcdefghijklmnop.qrs', 'tok9abcdef']) {
      const error = upstreamHttpError(
        'local',
        401,
        JSON.stringify({ message: `token rejected: Bearer ${token}` }),
        {},
      );
      assert.match(error.message, /token rejected: Bearer \[REDACTED\]$/, token);
    }
  });
});

describe('an OpenAI-compatible backend whose 401 echoes the key it was sent', () => {
  let server: Server;
  let baseUrl: string;
  before(async () => {
    server = createServer((request, response) => {
      response.writeHead(401, { 'content-type': 'application/json' });
      const sent = String(request.headers.authorization).replace(/^Bearer /, '');
      response.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${sent}.` } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => server.close());

  for (const stream of [false, true]) {
    it(`fails without the key in its error (stream: ${stream})`, async () => {
      const target = upstreamTarget(
        { provider: 'openai', model: 'gpt-4o', baseUrl },
        { headerName: 'Authorization', headerPrefix: 'Bearer ', value: AZURE_STYLE_KEY },
      );
      const request = gatewayChatRequest({ messages: [{ role: 'user', content: 'Hi' }], stream });
      const error = await new OpenAiCompatibleAdapter()
        .invoke({ request, target, signal: new AbortController().signal })
        .then(
          () => assert.fail('the call should fail'),
          (failure: unknown) => failure as Error,
        );
      assert.match(error.message, /answered 401: Incorrect API key provided: \[REDACTED\]\./);
      assert.doesNotMatch(JSON.stringify({ message: error.message }), new RegExp(AZURE_STYLE_KEY));
    });
  }
});
