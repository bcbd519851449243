// The response cache's `user` key component where one route identifies users two ways: a
// SecurityPolicy trusts two JWT providers, each setting x-user-id from its tokens' `sub`.
// Their `alice`s are two users with two budgets (jwt:corp:sub:alice, jwt:partner:sub:alice),
// so one must never be answered from the other's cache entries.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const CORP = 'https://auth.corp.identified-cache.test';
const PARTNER = 'https://auth.partner.identified-cache.test';

const provider = (name: string, issuer: string, jwksUri: string) => `    - name: ${name}
      issuer: ${issuer}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "${jwksUri}"}
      claimToHeaders:
      - {claim: sub, header: x-user-id}`;

const yaml = (jwksUri: string) => `apiVersion: gateway.envoyproxy.io/v1alpha1
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
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: two-issuers}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: shared}]
  jwt:
    providers:
${provider('corp', CORP, jwksUri)}
${provider('partner', PARTNER, jwksUri)}
`;

describe('cache entries of one user id from two JWT providers (all-in-one gateway)', () => {
  const jwks = new LocalJwksServer();
  let corp: TestIssuer;
  let partner: TestIssuer;
  let gateway: AppProcess;

  before(async () => {
    await jwks.start();
    corp = await TestIssuer.create(CORP, 'ai-gateway');
    partner = await TestIssuer.create(PARTNER, 'ai-gateway');
    jwks.publish(corp.publicJwk, partner.publicJwk);
    const dir = mkdtempSync(join(tmpdir(), 'aigw-identified-cache-'));
    writeFileSync(join(dir, 'config.yaml'), yaml(jwks.url));
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
  });
  after(async () => {
    await gateway?.stop();
    await jwks.stop();
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
    assert.equal(await cacheOf(corp, 'alice', 'what is 2+2?'), 'miss');
    assert.equal(await cacheOf(corp, 'alice', 'what is 2+2?'), 'hit', 'her own entry');
    // The partner's alice names the same id through another identification.
    assert.equal(await cacheOf(partner, 'alice', 'what is 2+2?'), 'miss');
    assert.equal(await cacheOf(partner, 'alice', 'what is 2+2?'), 'hit', 'now hers too');
    assert.equal(await cacheOf(corp, 'bob', 'what is 2+2?'), 'miss', 'another user');
  });
});
