// The response cache's `user` key component where one route identifies users two ways: a
// SecurityPolicy trusts two JWT providers, each setting x-user-id from its tokens' `sub`.
// Their `alice`s are two users with two budgets (jwt:corp:sub:alice, jwt:partner:sub:alice),
// so one must never be answered from the other's cache entries.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestIssuer } from '@aigw/testing/jwks';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { TwoJwtProviders } from './two-jwt-providers';

const yaml = (issuers: TwoJwtProviders) => `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: shared}
spec:
  backends:
  - {name: shared-local, provider: local, model: shared-mini}
  userIdentification:
    header: x-user-id
  caching:
    enabled: true
    ttl: 3600s
    keyComponents: [prompt, model, user]
---
${issuers.securityPolicy('shared')}`;

describe('cache entries of one user id from two JWT providers (all-in-one gateway)', () => {
  const issuers = new TwoJwtProviders('identified-cache');
  let gateway: AppProcess;

  before(async () => {
    await issuers.start();
    gateway = await startGatewayWithConfig(yaml(issuers));
  });
  after(async () => {
    await gateway?.stop();
    await issuers.stop();
  });

  /** The cache's word on a chat call of `issuer`'s `sub`: hit or miss. */
  const cacheOf = async (issuer: TestIssuer, sub: string, prompt: string) => {
    const reply = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await issuer.sign({ sub })}`,
      },
      body: JSON.stringify({
        model: 'shared-mini',
        messages: [{ role: 'user', content: prompt }],
        max_tokens: 20,
      }),
    });
    assert.equal(reply.status, 200, await reply.clone().text());
    await reply.arrayBuffer();
    return reply.headers.get('x-ai-gateway-cache');
  };

  it("answers one provider's alice from her own entries, never the other's", async () => {
    assert.equal(await cacheOf(issuers.corp, 'alice', 'what is 2+2?'), 'miss');
    assert.equal(await cacheOf(issuers.corp, 'alice', 'what is 2+2?'), 'hit', 'her own entry');
    // The partner's alice names the same id through another identification.
    assert.equal(await cacheOf(issuers.partner, 'alice', 'what is 2+2?'), 'miss');
    assert.equal(await cacheOf(issuers.partner, 'alice', 'what is 2+2?'), 'hit', 'now hers too');
    assert.equal(await cacheOf(issuers.corp, 'bob', 'what is 2+2?'), 'miss', 'another user');
  });
});
