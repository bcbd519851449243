// One user id named two ways on the all-in-one gateway: the `sub` of a JWT on one route,
// the x-user-id header on another. A caller who sets the header must not spend the JWT
// user's budget; the operator still names the user by the plain id.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topic } from '@aigw/contracts';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { embeddedEventLog, PER_REQUEST, type RecordedEvent } from './budget-scenarios';

const ISSUER = 'https://auth.identified-budgets.test';

// Each user's day holds one call (its hold is the whole budget), on either route.
const yaml = (jwksUri: string) => `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: secured}
spec:
  backends:
  - {name: secured-local, provider: local, model: gpt-4o-mini}
  userIdentification:
    jwt: {claim: sub, provider: corp}
  tokenBudget:
    perUser: {limit: ${PER_REQUEST}, period: 1d}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends:
  - {name: open-local, provider: local, model: open-mini}
  userIdentification:
    header: x-user-id
  tokenBudget:
    perUser: {limit: ${PER_REQUEST}, period: 1d}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: corp}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: secured}]
  jwt:
    providers:
    - name: corp
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "${jwksUri}"}
`;

describe('budgets of a JWT user and a header naming the same id (all-in-one gateway)', () => {
  const jwks = new LocalJwksServer();
  let issuer: TestIssuer;
  let gateway: AppProcess;
  let dataDir: string;

  before(async () => {
    await jwks.start();
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    const dir = mkdtempSync(join(tmpdir(), 'aigw-identified-budgets-'));
    writeFileSync(join(dir, 'config.yaml'), yaml(jwks.url));
    dataDir = join(dir, 'data');
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: dataDir,
    });
  });
  after(async () => {
    await gateway?.stop();
    await jwks.stop();
  });

  const chat = (model: string, headers: Record<string, string>) =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 20 }),
    });
  const asHeaderUser = (id: string) => chat('open-mini', { 'x-user-id': id });
  const asJwtUser = async (sub: string) =>
    chat('gpt-4o-mini', { authorization: `Bearer ${await issuer.sign({ sub })}` });

  /** The usage events of `userId` recorded so far, once there are `count`. */
  async function usageOf(userId: string, count: number): Promise<RecordedEvent[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = (await embeddedEventLog(dataDir, Topic.UsageRecorded)).filter(
        (event) => event.userId === userId,
      );
      if (found.length >= count || Date.now() > deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it("a header caller naming a JWT user's sub spends a budget of its own", async () => {
    const spoofed = await asHeaderUser('alice');
    assert.equal(spoofed.status, 200, await spoofed.clone().text());
    // The header's "alice" has spent her day: her budget is real.
    const again = await asHeaderUser('alice');
    assert.equal(again.status, 429, await again.clone().text());
    // The JWT user alice has hers whole.
    const jwtAlice = await asJwtUser('alice');
    assert.equal(jwtAlice.status, 200, await jwtAlice.clone().text());
    assert.equal((await asJwtUser('alice')).status, 429, 'her own budget binds her');

    // Both are "alice" to the operator; each usage names the budget it settled.
    const usage = await usageOf('alice', 2);
    assert.deepEqual(usage.map((event) => event.budgetKey).sort(), [
      'header:x-user-id:alice',
      'jwt:corp:sub:alice',
    ]);
  });

  it('nor can a header caller exhaust a JWT user first', async () => {
    assert.equal((await asJwtUser('bob')).status, 200);
    assert.equal((await asJwtUser('bob')).status, 429);
    const header = await asHeaderUser('bob');
    assert.equal(header.status, 200, await header.clone().text());
  });

  it('the admin API resets a plain id under each identification, and says which', async () => {
    const reply = await fetch(`http://127.0.0.1:${gateway.adminPort}/admin/budgets/alice/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(reply.status, 202);
    const body = (await reply.json()) as { userKey: string; budgetKeys: string[] };
    assert.equal(body.userKey, 'alice');
    assert.deepEqual([...body.budgetKeys].sort(), ['header:x-user-id:alice', 'jwt:corp:sub:alice']);
    // Applied by the budget service off the request path: both get their day back.
    const deadline = Date.now() + 30_000;
    let header = 429;
    let jwt = 429;
    while ((header !== 200 || jwt !== 200) && Date.now() < deadline) {
      if (header !== 200) header = (await asHeaderUser('alice')).status;
      if (jwt !== 200) jwt = (await asJwtUser('alice')).status;
      if (header !== 200 || jwt !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.deepEqual({ header, jwt }, { header: 200, jwt: 200 });
  });
});
