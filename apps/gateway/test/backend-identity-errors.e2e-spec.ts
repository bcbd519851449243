// With modelNameOverride the client never learns what serves it: a backend's error, passed
// on to the client, names the model the client asked for and none of the backend's
// account (OpenAI's organization and project ids), on every edge, JSON and streamed, in
// both deployment shapes (libs/router/src/identity-hiding-providers.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startGatewayWithConfig,
  startSplitDataPlane,
  type AppProcess,
} from '@aigw/testing/processes';

const BACKEND_MODEL = 'gpt-4o-mini';
const ORG = 'org-AbCdEf0123456789xyzXYZ12';
const PROJECT = 'proj_AbCdEf0123456789xyzXYZ12';
const RATE_LIMITED = JSON.stringify({
  error: {
    message: `Rate limit reached for ${BACKEND_MODEL} in organization ${ORG} on tokens per min (TPM): Limit 200000, Used 199000, Requested 2000.`,
    type: 'tokens',
    code: 'rate_limit_exceeded',
  },
});
const TOO_LONG = JSON.stringify({
  error: {
    message: `This model's maximum context length is 128000 tokens (${BACKEND_MODEL}-2024-07-18 in project ${PROJECT}).`,
    type: 'invalid_request_error',
    code: 'context_length_exceeded',
    param: 'messages',
  },
});
type Answer = (response: ServerResponse) => void;
const json =
  (status: number, body: string): Answer =>
  (response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(body);
  };
/** Fails the assertion when `text` names the backend's model or account. */
function assertNoBackendIdentity(text: string): void {
  for (const name of [BACKEND_MODEL, ORG, PROJECT]) {
    assert.ok(!text.includes(name), `"${name}" reached the client: ${text}`);
  }
}

for (const shape of ['all-in-one', 'split'] as const) {
  describe(`a backend's error names no backend identity (${shape})`, () => {
    const answers: Answer[] = [];
    const backend = createServer((request: IncomingMessage, response: ServerResponse) => {
      request.resume();
      request.on('end', () => (answers.shift() ?? json(500, '{}'))(response));
    });
    const services: AppProcess[] = [];
    let edge = '';

    before(async () => {
      await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
      const { port } = backend.address() as AddressInfo;
      const config = `kind: AIGatewayRoute
metadata: {name: identity}
spec:
  backends:
  - {name: primary, priority: 0, provider: openai, baseUrl: "http://127.0.0.1:${port}", model: ${BACKEND_MODEL}, modelNameOverride: smart, auth: {apiKeyRef: {name: k}}}
`;
      const env = { AI_GATEWAY_SECRET_K_APIKEY: 'sk-k' };
      if (shape === 'all-in-one') {
        const gateway = await startGatewayWithConfig(config, env);
        services.push(gateway);
        edge = gateway.baseUrl;
        return;
      }
      const dir = mkdtempSync(join(tmpdir(), 'aigw-backend-identity-'));
      writeFileSync(join(dir, 'config.yaml'), config);
      const { ingress } = await startSplitDataPlane(
        { ...env, AI_GATEWAY_CONFIG: join(dir, 'config.yaml') },
        dir,
        services,
      );
      edge = ingress.baseUrl;
    });
    after(async () => {
      await Promise.all(services.map((service) => service.stop()));
      await new Promise((resolve) => backend.close(resolve));
    });

    const post = (path: string, body: object) =>
      fetch(`${edge}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer user' },
        body: JSON.stringify(body),
      });

    it("answers OpenAI's rate limit naming the client's model, the organization hidden", async () => {
      answers.push(json(429, RATE_LIMITED));
      const response = await post('/v1/chat/completions', {
        model: 'smart',
        messages: [{ role: 'user', content: 'hi' }],
      });
      const text = await response.text();
      assert.equal(response.status, 429, text);
      assertNoBackendIdentity(text);
      const { error } = JSON.parse(text) as { error: { message: string; code: string } };
      assert.match(error.message, /Rate limit reached for smart in organization \[REDACTED\]/);
      assert.equal(error.code, 'rate_limit_exceeded');
    });

    it('answers a refusal on /v1/messages without the dated model or the project', async () => {
      answers.push(json(400, TOO_LONG));
      const response = await post('/v1/messages', {
        model: 'smart',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      });
      const text = await response.text();
      assert.equal(response.status, 400, text);
      assertNoBackendIdentity(text);
      assert.match(text, /128000 tokens \(smart in project \[REDACTED\]\)/);
    });

    it("answers a streamed Gemini call the backend refused, in Google's shape, naming neither", async () => {
      answers.push(json(429, RATE_LIMITED));
      const response = await post('/v1beta/models/smart:streamGenerateContent?alt=sse', {
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
      });
      const text = await response.text();
      assert.equal(response.status, 429, text);
      assertNoBackendIdentity(text);
      const { error } = JSON.parse(text) as { error: { message: string; status: string } };
      assert.equal(error.status, 'RESOURCE_EXHAUSTED');
      assert.match(error.message, /Rate limit reached for smart in organization \[REDACTED\]/);
    });
  });
}
