// GET /v1/models and the Conversations API identify callers as the gateway's routes do
// (all-in-one gateway). The first route trusts x-user-id and has a free tier limited to
// one model; the second needs a JWT. A free-tier caller lists only what it may call, a
// keyless caller lists the open route's models, a JWT-only gateway lists nothing without a
// valid token (401), and a JWT user's conversation is its own, not the keyless callers'
// the first route names `anonymous`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const ISSUER = 'https://auth.identified-listing.test';

const openRoute = (upstreamUrl: string) => `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends:
  - {name: big, provider: local, model: open-big}
  - {name: small, provider: vllm, baseUrl: "${upstreamUrl}", model: upstream-small, modelNameOverride: open-small}
  userIdentification: {header: x-user-id}
  userTiers:
  - {name: free, selector: {header: x-user-plan, value: free}, tokenBudget: {daily: 100000}, allowedModels: [open-small]}
  - {name: basic, default: true, selector: {header: x-user-plan, value: basic}, tokenBudget: {daily: 100000}}
`;

const securedRoute = (
  upstreamUrl: string,
  jwksUri: string,
) => `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: secured}
spec:
  backends:
  - {name: secure, provider: vllm, baseUrl: "${upstreamUrl}", model: upstream-secure, modelNameOverride: secure-model}
  userIdentification: {header: x-user-id}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: agent-auth}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: secured}]
  jwt:
    providers:
    - name: agent-auth
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "${jwksUri}"}
      claimToHeaders: [{claim: sub, header: x-user-id}]
`;

const client = (gateway: AppProcess, apiKey: string, headers: Record<string, string> = {}) =>
  new OpenAI({
    baseURL: `${gateway.baseUrl}/v1`,
    apiKey,
    maxRetries: 0,
    defaultHeaders: headers,
  });

const ids = (page: { data: { id: string }[] }) => page.data.map((model) => model.id).sort();

describe('the model list and conversations, identified as the routes identify callers', () => {
  const jwks = new LocalJwksServer();
  const upstream = new FakeOpenAiUpstream('identified-listing');
  let issuer: TestIssuer;
  let mixed: AppProcess;
  let jwtOnly: AppProcess;
  let alice: string;

  before(async () => {
    await Promise.all([jwks.start(), upstream.start()]);
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    alice = await issuer.sign({ sub: 'alice' });
    const secured = securedRoute(upstream.baseUrl, jwks.url);
    [mixed, jwtOnly] = await Promise.all([
      startGatewayWithConfig(`${openRoute(upstream.baseUrl)}---\n${secured}`),
      startGatewayWithConfig(secured),
    ]);
  });
  after(async () => {
    await Promise.all([mixed?.stop(), jwtOnly?.stop()]);
    await Promise.all([jwks.stop(), upstream.stop()]);
  });

  it("lists a free-tier caller only its tier's models, in OpenAI's and Google's shapes", async () => {
    const free = { 'x-user-id': 'bob', 'x-user-plan': 'free' };
    assert.deepEqual(ids(await client(mixed, 'unused', free).models.list()), ['open-small']);
    const gemini = await fetch(`${mixed.baseUrl}/v1beta/models`, { headers: free });
    assert.equal(gemini.status, 200);
    const listed = (await gemini.json()) as { models: { name: string }[] };
    assert.deepEqual(
      listed.models.map((model) => model.name),
      ['models/open-small'],
    );
    // Retrieving one the tier forbids: the 404 of a model not served.
    await assert.rejects(
      client(mixed, 'unused', free).models.retrieve('open-big'),
      OpenAI.NotFoundError,
    );
  });

  it('lists a keyless caller the open route models, a JWT user every model', async () => {
    const keyless = await fetch(`${mixed.baseUrl}/v1/models`);
    assert.equal(keyless.status, 200);
    assert.deepEqual(ids((await keyless.json()) as { data: { id: string }[] }), [
      'open-big',
      'open-small',
    ]);
    assert.deepEqual(ids(await client(mixed, alice).models.list()), [
      'open-big',
      'open-small',
      'secure-model',
    ]);
  });

  it('answers 401 without a valid token where every route needs a JWT', async () => {
    const keyless = await fetch(`${jwtOnly.baseUrl}/v1/models`);
    assert.equal(keyless.status, 401);
    assert.match(keyless.headers.get('www-authenticate') ?? '', /^Bearer/);
    const body = (await keyless.json()) as { error: { type: string } };
    assert.equal(body.error.type, 'authentication_error');
    await assert.rejects(client(jwtOnly, 'not-a-token').models.list(), OpenAI.AuthenticationError);
    const anthropic = await fetch(`${jwtOnly.baseUrl}/v1/models`, {
      headers: { 'anthropic-version': '2023-06-01' },
    });
    assert.equal(anthropic.status, 401);
    assert.equal(((await anthropic.json()) as { type: string }).type, 'error');
    const gemini = await fetch(`${jwtOnly.baseUrl}/v1beta/models`);
    assert.equal(gemini.status, 401);
    assert.deepEqual(ids(await client(jwtOnly, alice).models.list()), ['secure-model']);
  });

  it("takes Google's ?key= as the token on /v1beta/models, as on the model calls", async () => {
    const listed = await fetch(`${jwtOnly.baseUrl}/v1beta/models?key=${alice}`);
    assert.equal(listed.status, 200);
    const body = (await listed.json()) as { models: { name: string }[] };
    assert.deepEqual(
      body.models.map((model) => model.name),
      ['models/secure-model'],
    );
    const one = await fetch(`${jwtOnly.baseUrl}/v1beta/models/secure-model?key=${alice}`);
    assert.equal(one.status, 200);
    assert.equal(((await one.json()) as { name: string }).name, 'models/secure-model');
    // Under /v1 (Google's stable version), the key in the query asks for Gemini's shape.
    const stable = await fetch(`${jwtOnly.baseUrl}/v1/models?key=${alice}`);
    assert.equal(stable.status, 200);
    assert.deepEqual(
      ((await stable.json()) as { models: { name: string }[] }).models.map((m) => m.name),
      ['models/secure-model'],
    );
    const stableOne = await fetch(`${jwtOnly.baseUrl}/v1/models/secure-model?key=${alice}`);
    assert.equal(((await stableOne.json()) as { name: string }).name, 'models/secure-model');
    // A key in the query that is no valid token is refused as in the header, in Google's shape.
    const bad = await fetch(`${jwtOnly.baseUrl}/v1beta/models?key=not-a-token`);
    assert.equal(bad.status, 401);
    assert.equal(
      ((await bad.json()) as { error: { status: string } }).error.status,
      'UNAUTHENTICATED',
    );
  });

  it("keeps a JWT user's conversation from keyless callers", async () => {
    const mine = client(mixed, alice);
    const conversation = await mine.conversations.create({
      items: [{ role: 'user', content: 'secret plan' }],
    });
    const keyless = client(mixed, 'unused');
    const notFound = (error: unknown) => error instanceof OpenAI.NotFoundError;
    await assert.rejects(keyless.conversations.retrieve(conversation.id), notFound);
    await assert.rejects(keyless.conversations.items.list(conversation.id), notFound);
    await assert.rejects(
      keyless.responses.create({
        model: 'open-small',
        input: 'and?',
        conversation: conversation.id,
      }),
      notFound,
    );
    // Still alice's, through the JWT route's model.
    const turn = await mine.responses.create({
      model: 'secure-model',
      input: 'Go on.',
      conversation: conversation.id,
    });
    assert.equal(turn.status, 'completed');
    assert.equal((await mine.conversations.items.list(conversation.id)).data.length, 3);
  });

  it('still lets a header-identified caller keep its conversations on the open route', async () => {
    const bob = client(mixed, 'unused', { 'x-user-id': 'bob' });
    const conversation = await bob.conversations.create({});
    assert.equal((await bob.conversations.retrieve(conversation.id)).id, conversation.id);
    const other = client(mixed, 'unused', { 'x-user-id': 'carol' });
    await assert.rejects(other.conversations.retrieve(conversation.id), OpenAI.NotFoundError);
    await assert.rejects(
      client(jwtOnly, 'unused').conversations.create({}),
      OpenAI.AuthenticationError,
    );
  });
});
