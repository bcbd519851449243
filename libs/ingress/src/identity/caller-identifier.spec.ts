import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig, RouteConfig } from '@aigw/config';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { CallerIdentifier } from './caller-identifier';
import { credentialUserKey } from './credential-user-key';
import { KeysUnavailable, type KeySetFailure } from './identity.errors';
import type { IdentityOptions } from './identity-options';
import {
  agentAuthPolicy,
  FAST_KEY_SETS,
  loadConfig,
  reasonOf,
  rejection,
  routeNamed,
} from './jwt-spec-fixture';
import type { KeySetTiming } from './remote-key-set';

const ISSUER = 'https://auth.test.local';

function gatewayConfig(jwksUri: string): GatewayConfig {
  return loadConfig(`apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: secured}
spec:
  backends:
  - {name: big, provider: local, model: gpt-4}
  - {name: small, provider: local, model: gpt-3.5-turbo}
  userIdentification:
    header: x-user-id
    jwt: {claim: sub, provider: agent-auth}
  userTiers:
  - name: free
    selector: {header: x-user-plan, value: free}
    tokenBudget: {daily: 10000}
    allowedModels: [gpt-3.5-turbo]
  - name: pro
    selector: {header: x-user-plan, value: pro}
    tokenBudget: {daily: 100000}
    allowedModels: [gpt-4, gpt-3.5-turbo]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends:
  - {name: any, provider: local}
  userIdentification: {header: x-user-id}
---
${agentAuthPolicy(ISSUER, jwksUri, ['secured'])}`);
}

describe('CallerIdentifier with a JWT provider', () => {
  const jwks = new LocalJwksServer();
  let issuer: TestIssuer;
  let config: GatewayConfig;
  let secured: RouteConfig;

  const identifier = (options: IdentityOptions = {}) =>
    new CallerIdentifier(() => config, { keySetTiming: FAST_KEY_SETS, ...options });
  const bearer = (token: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    ...extra,
  });

  before(async () => {
    await jwks.start();
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    config = gatewayConfig(jwks.url);
    secured = routeNamed(config, 'secured');
  });
  beforeEach(() => {
    jwks.publish(issuer.publicJwk).failWith(undefined);
  });
  after(() => jwks.stop());

  it('accepts a good token: claims become headers, the user key and the tier', async () => {
    const ids = identifier();
    const token = await issuer.sign({ sub: 'alice', plan: 'pro' });
    const first = ids.identify(bearer(token), secured);
    assert.ok(first instanceof Promise, 'the first sight of a token is verified asynchronously');
    const identity = await first;
    assert.deepEqual(identity.caller, {
      userKey: 'alice',
      budgetKey: 'jwt:agent-auth:sub:alice',
      tier: 'pro',
    });
    assert.deepEqual(identity.allowedModels, ['gpt-4', 'gpt-3.5-turbo']);
    assert.equal(identity.headers['x-user-id'], 'alice');
    assert.equal(identity.headers['x-user-plan'], 'pro');
    const shortLived = await issuer.sign({ sub: 'alice', plan: 'pro' }, { expiresIn: 90 });
    const { exp } = JSON.parse(Buffer.from(shortLived.split('.')[1], 'base64url').toString());
    assert.equal(typeof exp, 'number');
    const expiring = await ids.identify(bearer(shortLived), secured);
    assert.equal(expiring.credentialExpiresAt, exp, "the JWT's exp is kept");

    const again = ids.identify(bearer(token), secured);
    assert.ok(!(again instanceof Promise), 'a token already verified is answered synchronously');
    assert.deepEqual(again.caller, {
      userKey: 'alice',
      budgetKey: 'jwt:agent-auth:sub:alice',
      tier: 'pro',
    });
  });

  it('rejects a token signed by another key under a known kid (bad signature)', async () => {
    const token = await issuer.signWithForeignKey({ sub: 'alice', plan: 'pro' });
    const error = await rejection(() => identifier().identify(bearer(token), secured));
    assert.equal(error.code, DataPlaneErrorCode.Unauthenticated);
    assert.equal(reasonOf(error), 'bad-signature');
  });

  it('rejects a tampered payload', async () => {
    const token = await issuer.sign({ sub: 'alice', plan: 'free' });
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ sub: 'alice', plan: 'pro', iss: ISSUER, aud: 'ai-gateway', exp: 2e9 }),
    ).toString('base64url');
    const error = await rejection(() =>
      identifier().identify(bearer(`${header}.${forged}.${signature}`), secured),
    );
    assert.equal(reasonOf(error), 'bad-signature');
  });

  it('checks expiry and not-before with a small clock tolerance', async () => {
    const ids = identifier();
    const expired = await issuer.sign({ sub: 'a', plan: 'pro' }, { expiresIn: -120 });
    const error = await rejection(() => ids.identify(bearer(expired), secured));
    assert.equal(reasonOf(error), 'expired');
    assert.equal(error.message, 'The bearer token has expired');

    const future = await issuer.sign({ sub: 'a', plan: 'pro' }, { notBefore: 120 });
    assert.equal(
      reasonOf(await rejection(() => ids.identify(bearer(future), secured))),
      'not-yet-valid',
    );

    const skewed = await issuer.sign({ sub: 'a', plan: 'pro' }, { expiresIn: -5, notBefore: 5 });
    assert.equal((await ids.identify(bearer(skewed), secured)).caller.userKey, 'a');

    const immortal = await issuer.sign({ sub: 'a', plan: 'pro' }, { noExpiry: true });
    assert.equal(
      reasonOf(await rejection(() => ids.identify(bearer(immortal), secured))),
      'claims-rejected',
    );
  });

  it('rejects a wrong issuer and a wrong audience', async () => {
    const ids = identifier();
    const wrongIssuer = await issuer.sign({ sub: 'a' }, { issuer: 'https://evil.example' });
    assert.equal(
      reasonOf(await rejection(() => ids.identify(bearer(wrongIssuer), secured))),
      'unknown-issuer',
    );
    const wrongAudience = await issuer.sign({ sub: 'a' }, { audience: 'another-api' });
    assert.equal(
      reasonOf(await rejection(() => ids.identify(bearer(wrongAudience), secured))),
      'claims-rejected',
    );
  });

  it('refuses alg none and an HS256 token keyed with the public key, without fetching keys', async () => {
    const ids = identifier();
    await ids.identify(bearer(await issuer.sign({ sub: 'a', plan: 'pro' })), secured);
    const fetches = jwks.fetches;
    for (const token of [
      issuer.unsigned({ sub: 'admin', plan: 'pro' }),
      issuer.hmacWithPublicKey({ sub: 'admin', plan: 'pro' }),
    ]) {
      const error = await rejection(() => ids.identify(bearer(token), secured));
      assert.equal(error.code, DataPlaneErrorCode.Unauthenticated);
      assert.equal(reasonOf(error), 'algorithm-not-allowed');
    }
    assert.equal(jwks.fetches, fetches, 'a disallowed algorithm never reaches the key set');
  });

  it('answers a missing, non-bearer or malformed Authorization with 401', async () => {
    const ids = identifier();
    for (const [headers, reason] of [
      [{}, 'missing-token'],
      [{ authorization: 'Basic YWxpY2U6c2VjcmV0' }, 'missing-token'],
      [{ authorization: 'Bearer not a jwt' }, 'malformed-token'],
      [{ authorization: `Bearer ${'a'.repeat(9000)}.b.c` }, 'malformed-token'],
    ] as const) {
      const error = await rejection(() => ids.identify(headers, secured));
      assert.equal(error.code, DataPlaneErrorCode.Unauthenticated);
      assert.equal(reasonOf(error), reason);
    }
  });

  it('challenges every 401 with WWW-Authenticate: Bearer, naming the error once a token was sent', async () => {
    const ids = identifier();
    const forged = await issuer.signWithForeignKey({ sub: 'mallory', plan: 'pro' });
    const expired = await issuer.sign({ sub: 'a', plan: 'pro' }, { expiresIn: -300 });
    const unnamed = await issuer.sign({ sub: '', plan: 'pro' });
    const other = await issuer.sign({ sub: 'b', plan: 'pro' });
    for (const [headers, challenge] of [
      [{}, 'Bearer'], // no credential: no error code (RFC 6750 section 3.1)
      [{ authorization: 'Bearer not a jwt' }, 'Bearer error="invalid_token"'],
      [bearer(forged), 'Bearer error="invalid_token"'],
      [bearer(expired), 'Bearer error="invalid_token"'],
      [bearer(unnamed), 'Bearer error="invalid_token"'],
      [bearer(forged, { 'x-api-key': other }), 'Bearer error="invalid_request"'],
    ] as const) {
      const error = await rejection(() => ids.identify(headers, secured));
      assert.equal(error.httpStatus, 401);
      assert.equal(error.headers?.['www-authenticate'], challenge, reasonOf(error));
    }
  });

  it('refetches the key set for an unknown kid after a rotation', async () => {
    const ids = identifier();
    await ids.identify(bearer(await issuer.sign({ sub: 'a', plan: 'pro' })), secured);
    const rotated = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(rotated.publicJwk);
    const before = jwks.fetches;
    const identity = await ids.identify(
      bearer(await rotated.sign({ sub: 'bob', plan: 'free' })),
      secured,
    );
    assert.deepEqual(identity.caller, {
      userKey: 'bob',
      budgetKey: 'jwt:agent-auth:sub:bob',
      tier: 'free',
    });
    assert.equal(jwks.fetches, before + 1);
  });

  it('holds a flood of unknown kids to one fetch per cooldown', async () => {
    const COOLDOWN_MS = 200;
    const flood = await Promise.all(
      Array.from({ length: 50 }, (_, i) => issuer.sign({ sub: 'x' }, { kid: `made-up-${i}` })),
    );
    const firstToken = await issuer.sign({ sub: 'a', plan: 'pro' });
    // The cooldown (jose's) and the attempt floor (ours) read Date.now(): on a fake Date,
    // the bursts fall within a cooldown because the clock stands still, not because the
    // machine was quick enough; it moves only past it, when the test says so.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      const ids = identifier({
        keySetTiming: { ...FAST_KEY_SETS, cooldownMs: COOLDOWN_MS, minAttemptIntervalMs: 50 },
      });
      const burst = () =>
        Promise.all(
          flood.map(async (token) =>
            reasonOf(await rejection(() => ids.identify(bearer(token), secured))),
          ),
        );
      await ids.identify(bearer(firstToken), secured);
      const start = jwks.fetches;
      const reasons = await burst();
      assert.equal(jwks.fetches, start, 'within the cooldown no unknown kid causes a fetch');
      mock.timers.tick(COOLDOWN_MS - 1);
      reasons.push(...(await burst()));
      assert.equal(jwks.fetches, start, 'nor on its last millisecond');
      mock.timers.tick(1);
      reasons.push(...(await burst()), ...(await burst()));
      assert.equal(jwks.fetches, start + 1, 'after the cooldown, one fetch serves the whole flood');
      for (const reason of reasons) assert.equal(reason, 'unknown-key');
    } finally {
      mock.timers.reset();
    }
  });

  it('holds refetches to the attempt floor while the key server fails', async () => {
    const ids = identifier({
      keySetTiming: { ...FAST_KEY_SETS, cooldownMs: 0, minAttemptIntervalMs: 60_000 },
    });
    jwks.failWith(503);
    const start = jwks.fetches;
    const token = await issuer.sign({ sub: 'a', plan: 'pro' });
    for (let round = 0; round < 3; round++) {
      const errors = await Promise.all(
        Array.from({ length: 20 }, () => rejection(() => ids.identify(bearer(token), secured))),
      );
      for (const error of errors) assert.equal(reasonOf(error), 'keys-unavailable');
    }
    const fetched = jwks.fetches - start;
    assert.ok(fetched <= 1, `expected at most one fetch, saw ${fetched}`);
  });

  it('removes a spoofed x-user-id (and x-user-plan) before anything reads them', async () => {
    const ids = identifier();
    const token = await issuer.sign({ sub: 'alice', plan: 'free' });
    const identity = await ids.identify(
      bearer(token, { 'x-user-id': 'mallory', 'x-user-plan': 'pro', 'x-trace-id': 't1' }),
      secured,
    );
    assert.deepEqual(identity.caller, {
      userKey: 'alice',
      budgetKey: 'jwt:agent-auth:sub:alice',
      tier: 'free',
    });
    assert.deepEqual(identity.allowedModels, ['gpt-3.5-turbo']);
    assert.equal(identity.headers['x-user-id'], 'alice');
    assert.equal(identity.headers['x-user-plan'], 'free');
    assert.equal(identity.headers['x-trace-id'], 't1', 'other headers pass through');

    // Without the claims, the spoofed headers are gone rather than trusted: no user is
    // named, so the token is refused (not mallory, not anonymous), before any tier is looked at.
    const bare = await issuer.sign({});
    for (const ids of [identifier(), identifier({ defaultTier: 'free' })]) {
      const error = await rejection(() =>
        ids.identify(bearer(bare, { 'x-user-id': 'mallory', 'x-user-plan': 'pro' }), secured),
      );
      assert.equal(error.code, DataPlaneErrorCode.Unauthenticated);
      assert.equal(reasonOf(error), 'no-user-claim');
    }
    // No plan claim: the spoofed plan header is not trusted either.
    const noPlan = await issuer.sign({ sub: 'alice' });
    const error = await rejection(() =>
      ids.identify(bearer(noPlan, { 'x-user-plan': 'pro' }), secured),
    );
    assert.equal(error.code, DataPlaneErrorCode.Forbidden, 'no plan claim: no tier');
    const withDefault = await identifier({ defaultTier: 'free' }).identify(
      bearer(noPlan, { 'x-user-id': 'mallory', 'x-user-plan': 'pro' }),
      secured,
    );
    assert.deepEqual(withDefault.caller, {
      userKey: 'alice',
      budgetKey: 'jwt:agent-auth:sub:alice',
      tier: 'free',
    });
    assert.equal(withDefault.headers['x-user-id'], 'alice');
  });

  it('keeps claim headers header-safe', async () => {
    const ids = identifier({ defaultTier: 'free' });
    for (const plan of ['pro\r\nx-admin: 1', { nested: true }]) {
      const token = await issuer.sign({ sub: 'eve', plan });
      const identity = await ids.identify(bearer(token), secured);
      assert.equal(identity.headers['x-user-plan'], undefined);
      assert.equal(identity.headers['x-admin'], undefined);
      assert.deepEqual(identity.caller, {
        userKey: 'eve',
        budgetKey: 'jwt:agent-auth:sub:eve',
        tier: 'free',
      });
    }
    // A user claim that is no header-safe id is refused, not read as anonymous.
    const injected = await issuer.sign({ sub: 'eve\r\nx-admin: 1', plan: 'pro' });
    const error = await rejection(() => ids.identify(bearer(injected), secured));
    assert.equal(reasonOf(error), 'unusable-user-claim');
  });

  it('answers 401 and 403 with bodies that leak nothing', async () => {
    const ids = identifier();
    const secret = await issuer.signWithForeignKey({ sub: 'alice-secret-subject', plan: 'pro' });
    const noTier = await issuer.sign({ sub: 'alice-secret-subject', plan: 'gold' });
    const bodies = [
      await rejection(() => ids.identify(bearer(secret), secured)),
      await rejection(() => ids.identify(bearer(issuer.unsigned({ sub: 'x' })), secured)),
      await rejection(() => ids.identify(bearer(noTier), secured)),
    ].map((error) => ({ status: error.httpStatus, body: JSON.stringify(error.toOpenAiBody()) }));
    assert.deepEqual(
      bodies.map((b) => b.status),
      [401, 401, 403],
    );
    for (const { body } of bodies) {
      for (const leak of [
        secret.slice(0, 20),
        secret.split('.')[1].slice(0, 20),
        issuer.kid,
        ISSUER,
        'alice-secret-subject',
        'gold',
        jwks.url,
        'JWS',
        'JWT ',
        'alg',
        'signature',
      ]) {
        assert.ok(!body.includes(leak), `${body} must not contain ${leak}`);
      }
    }
  });

  it('tells onRefusal of each refusal, synchronous or after a signature check, and of nothing else', async () => {
    const heard: DataPlaneError[] = [];
    const ids = identifier({ onRefusal: (error) => heard.push(error) });
    assert.throws(() => ids.identify({}, secured), DataPlaneError);
    const forged = await issuer.signWithForeignKey({ sub: 'mallory', plan: 'pro' });
    await rejection(() => ids.identify(bearer(forged), secured));
    await ids.identify(bearer(await issuer.sign({ sub: 'alice', plan: 'pro' })), secured);
    assert.deepEqual(heard.map(reasonOf), ['missing-token', 'bad-signature']);
  });
});

describe('CallerIdentifier without JWT', () => {
  const config = gatewayConfig('http://127.0.0.1:9/never-fetched');
  const open = routeNamed(config, 'open');

  it('identifies synchronously from the header, passing the headers through untouched', () => {
    const ids = new CallerIdentifier(() => config);
    const headers = { 'x-user-id': 'carol', authorization: 'Bearer whatever' };
    const identity = ids.identify(headers, open);
    assert.ok(!(identity instanceof Promise));
    // This config identifies users by a JWT too: the header's users have budgets of their own.
    assert.deepEqual(identity.caller, { userKey: 'carol', budgetKey: 'header:x-user-id:carol' });
    assert.deepEqual(identity.allowedModels, []);
    assert.equal(identity.headers, headers, 'no copy on the hot path');
    assert.equal(identity.credentialExpiresAt, undefined, 'no JWT, no expiry known');
    const anonymous = ids.identify({}, open);
    assert.ok(!(anonymous instanceof Promise));
    assert.equal(anonymous.caller.userKey, 'anonymous');
  });

  it('names a user sent as UTF-8 bytes (curl) as a JWT claim or the admin API would', () => {
    const ids = new CallerIdentifier(() => config);
    // Node hands header bytes over one character each: `josé` in UTF-8 arrives as `josÃ©`.
    const identity = ids.identify({ 'x-user-id': Buffer.from('josé').toString('latin1') }, open);
    assert.ok(!(identity instanceof Promise));
    assert.deepEqual(identity.caller, { userKey: 'josé', budgetKey: 'header:x-user-id:josé' });
  });
});

describe('CallerIdentifier identifying users by a credential header', () => {
  const load = (header: string): RouteConfig => {
    const config = loadConfig(`kind: AIGatewayRoute
metadata: {name: keyed}
spec:
  backends: [{name: any, provider: local}]
  userIdentification: {header: ${header}}
`);
    return routeNamed(config, 'keyed');
  };
  const KEY = 'sk-proj-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
  const userOf = (header: string, headers: Record<string, string>): string => {
    const route = load(header);
    const config = {
      routes: [route],
      securityPolicies: [],
      userTiers: [],
    } as unknown as GatewayConfig;
    const identity = new CallerIdentifier(() => config).identify(headers, route);
    assert.ok(!(identity instanceof Promise));
    return identity.caller.userKey;
  };

  it('keys the user by a hash of the credential, never the credential, one id per key', () => {
    const byApiKey = userOf('x-api-key', { 'x-api-key': KEY });
    assert.match(byApiKey, /^key-[0-9a-f]{16}$/);
    assert.ok(!byApiKey.includes(KEY));
    assert.equal(userOf('X-Api-Key', { 'x-api-key': KEY }), byApiKey);
    assert.equal(userOf('authorization', { authorization: `Bearer ${KEY}` }), byApiKey);
    assert.equal(userOf('api-key', { 'api-key': KEY }), byApiKey);
    assert.equal(userOf('x-goog-api-key', { 'x-goog-api-key': KEY }), byApiKey);
    assert.equal(
      userOf('proxy-authorization', { 'proxy-authorization': `bearer ${KEY}` }),
      byApiKey,
    );
    assert.notEqual(userOf('x-api-key', { 'x-api-key': `${KEY}0` }), byApiKey);
    assert.equal(userOf('x-api-key', {}), 'anonymous');
  });

  it("reads the key in whichever credential header the client's SDK sends it", () => {
    const id = userOf('authorization', { authorization: `Bearer ${KEY}` });
    // Anthropic's SDKs send x-api-key, Azure's api-key, Google's x-goog-api-key.
    assert.equal(userOf('authorization', { 'x-api-key': KEY }), id);
    assert.equal(userOf('authorization', { 'api-key': KEY }), id);
    assert.equal(userOf('x-api-key', { authorization: `Bearer ${KEY}` }), id);
    assert.equal(
      userOf('x-goog-api-key', { 'x-api-key': KEY, authorization: `Bearer ${KEY}` }),
      id,
    );
    // The header named comes first; two different keys elsewhere are not guessed between.
    assert.equal(userOf('x-api-key', { 'x-api-key': KEY, authorization: 'Bearer other' }), id);
    assert.equal(userOf('x-api-key', { authorization: 'Bearer a', 'api-key': 'b' }), 'anonymous');
    // Another scheme carries no key, and a header that is no credential is never filled.
    assert.equal(userOf('x-api-key', { authorization: `Basic ${KEY}` }), 'anonymous');
    assert.equal(userOf('x-user-id', { 'x-api-key': KEY }), 'anonymous');
  });

  it("selects a key's tier by its id whichever credential header carries it", () => {
    const config = loadConfig(`kind: AIGatewayRoute
metadata: {name: keyed}
spec:
  backends: [{name: any, provider: local}]
  userIdentification: {header: authorization}
  userTiers:
  - {name: team, selector: {header: x-api-key, value: ${credentialUserKey(KEY)}}, tokenBudget: {daily: 1000}}
`);
    const route = routeNamed(config, 'keyed');
    const identify = (headers: Record<string, string>) => {
      const identity = new CallerIdentifier(() => config).identify(headers, route);
      assert.ok(!(identity instanceof Promise));
      return identity.caller;
    };
    const byAnthropicSdk = identify({ 'x-api-key': KEY });
    const byOpenAiSdk = identify({ authorization: `Bearer ${KEY}` });
    assert.deepEqual(byOpenAiSdk, byAnthropicSdk);
    assert.equal(byOpenAiSdk.tier, 'team');
    assert.equal(byOpenAiSdk.userKey, credentialUserKey(KEY));
  });

  it('names one user for a key whose header came twice (the edge joins repeats by commas)', () => {
    const id = userOf('authorization', { authorization: `Bearer ${KEY}` });
    assert.equal(userOf('authorization', { authorization: `Bearer ${KEY}, Bearer ${KEY}` }), id);
    assert.equal(userOf('x-api-key', { 'x-api-key': `${KEY}, ${KEY}` }), id);
  });

  it('refuses a credential header carrying two different keys, as a JWT route does', () => {
    // A proxy in front may have checked either: a user of their own would be a fresh budget.
    for (const [header, value] of [
      ['authorization', `Bearer ${KEY}, Bearer other`],
      ['x-api-key', `${KEY}, other`],
    ]) {
      assert.throws(
        () => userOf(header, { [header]: value }),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.Unauthenticated &&
          error.message.includes(`different credentials in ${header}`) &&
          !error.message.includes(KEY),
      );
    }
  });

  it('takes a credential longer than a user key may be (its id is short)', () => {
    assert.match(userOf('x-api-key', { 'x-api-key': 'k'.repeat(400) }), /^key-[0-9a-f]{16}$/);
  });

  it('keeps other headers as they are', () => {
    assert.equal(userOf('x-user-id', { 'x-user-id': KEY }), KEY);
  });
});

describe('CallerIdentifier with a default tier from the configuration', () => {
  const load = loadConfig;
  const route = (name: string, tiers = '') => `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: ${name}}
spec:
  backends: [{name: ${name}, provider: local, model: model-${name}}]
  userIdentification: {header: x-user-id}
${tiers}---
`;
  const config = load(
    route('plain') +
      route(
        'own',
        `  userTiers:
  - {name: starter, default: true, selector: {header: x-plan, value: starter}, tokenBudget: {daily: 10}}
`,
      ) +
      route(
        'redefines',
        `  userTiers:
  - {name: free, selector: {header: x-plan, value: free}, tokenBudget: {daily: 5}}
`,
      ) +
      `userTiers:
- name: free
  default: true
  selector: {header: x-plan, value: free}
  tokenBudget: {daily: 10000}
  allowedModels: [model-plain]
- name: pro
  selector: {header: x-plan, value: pro}
  tokenBudget: {daily: 100000}
`,
  );
  const identify = async (
    routeName: string,
    headers: Record<string, string>,
    options: IdentityOptions = {},
  ) => new CallerIdentifier(() => config, options).identify(headers, routeNamed(config, routeName));

  it('gives a request matching no selector the tier marked default: true', async () => {
    const matched = await identify('plain', { 'x-user-id': 'dan', 'x-plan': 'pro' });
    assert.deepEqual(matched.caller, { userKey: 'dan', tier: 'pro' });
    const unmatched = await identify('plain', { 'x-user-id': 'dan', 'x-plan': 'gold' });
    assert.deepEqual(unmatched.caller, { userKey: 'dan', tier: 'free' });
    assert.deepEqual(unmatched.allowedModels, ['model-plain']);
    const bare = await identify('plain', {});
    assert.deepEqual(bare.caller, { userKey: 'anonymous', tier: 'free' });
  });

  it("prefers the route's own default; a route redefining the default tier without the flag has none", async () => {
    assert.equal((await identify('own', {})).caller.tier, 'starter');
    assert.equal((await identify('own', { 'x-plan': 'free' })).caller.tier, 'free');
    const error = await rejection(() => identify('redefines', {}));
    assert.equal(error.code, DataPlaneErrorCode.Forbidden);
    assert.equal((await identify('redefines', { 'x-plan': 'pro' })).caller.tier, 'pro');
  });

  it('lets AI_GATEWAY_DEFAULT_TIER override it on routes that have the tier it names', async () => {
    const pro = { defaultTier: 'pro' };
    assert.equal((await identify('plain', {}, pro)).caller.tier, 'pro');
    assert.equal((await identify('own', {}, pro)).caller.tier, 'pro');
    const starter = { defaultTier: 'starter' }; // only route "own" has it
    assert.equal((await identify('own', {}, starter)).caller.tier, 'starter');
    assert.equal((await identify('plain', {}, starter)).caller.tier, 'free');
  });

  it('without any default tier, a request matching no selector still gets 403', async () => {
    const noDefault = load(
      route(
        'plain',
        '  userTiers:\n  - {name: pro, selector: {header: x-plan, value: pro}, tokenBudget: {daily: 10}}\n',
      ),
    );
    const ids = new CallerIdentifier(() => noDefault);
    const error = await rejection(() =>
      ids.identify({ 'x-plan': 'gold' }, routeNamed(noDefault, 'plain')),
    );
    assert.equal(error.code, DataPlaneErrorCode.Forbidden);
  });
});

describe('CallerIdentifier: user identifiers longer than events carry', () => {
  const jwks = new LocalJwksServer();
  let issuer: TestIssuer;
  let config: GatewayConfig;

  before(async () => {
    await jwks.start();
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    config = gatewayConfig(jwks.url);
    jwks.publish(issuer.publicJwk);
  });
  after(() => jwks.stop());

  it('takes a header value of 256 characters and refuses 257, naming the header only', async () => {
    const ids = new CallerIdentifier(() => config, { keySetTiming: FAST_KEY_SETS });
    const open = routeNamed(config, 'open');
    const longest = 'u'.repeat(256);
    const identity = await ids.identify({ 'x-user-id': longest }, open);
    assert.equal(identity.caller.userKey, longest);
    // Qualified, it is past what events carry: its digest, still its own budget.
    const qualified = `header:x-user-id:${longest}`;
    assert.equal(
      identity.caller.budgetKey,
      `sha256:${createHash('sha256').update(qualified).digest('hex')}`,
    );
    const error = await rejection(() => ids.identify({ 'x-user-id': `${longest}x` }, open));
    assert.equal(error.code, DataPlaneErrorCode.InvalidRequest);
    assert.equal(
      error.message,
      "The user identifier (header 'x-user-id') is longer than 256 characters",
    );
  });

  it('refuses a verified claim of 257 characters', async () => {
    const ids = new CallerIdentifier(() => config, { keySetTiming: FAST_KEY_SETS });
    const token = await issuer.sign({ sub: 's'.repeat(257), plan: 'pro' });
    const error = await rejection(() =>
      ids.identify({ authorization: `Bearer ${token}` }, routeNamed(config, 'secured')),
    );
    assert.equal(error.code, DataPlaneErrorCode.InvalidRequest);
    assert.match(error.message, /user identifier \((claim 'sub'|header 'x-user-id')\)/);
  });
});

describe('CallerIdentifier: two SecurityPolicies with a provider of the same name', () => {
  const jwks = new LocalJwksServer();
  let partners: TestIssuer;
  let staff: TestIssuer;
  let config: GatewayConfig;

  const policy = (name: string, route: string, issuer: string, audience: string) =>
    `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: ${name}}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: ${route}}]
  jwt:
    providers:
    - name: corp
      issuer: ${issuer}
      audiences: [${audience}]
      remoteJWKS: {uri: "${jwks.url}"}
      claimToHeaders: [{claim: sub, header: x-user-id}]
`;
  const route = (name: string) =>
    `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: ${name}}
spec:
  backends: [{name: ${name}-backend, provider: local}]
  userIdentification: {header: x-user-id}
`;

  before(async () => {
    await jwks.start();
    partners = await TestIssuer.create('https://partners.test.local', 'partner-api');
    staff = await TestIssuer.create('https://staff.test.local', 'staff-api');
    jwks.publish(partners.publicJwk, staff.publicJwk);
    config = loadConfig(
      [
        route('partner'),
        route('staff'),
        policy('partner-auth', 'partner', partners.issuer, 'partner-api'),
        policy('staff-auth', 'staff', staff.issuer, 'staff-api'),
      ].join('---\n'),
    );
  });
  after(() => jwks.stop());

  it("does not let a token verified for one policy's provider pass another's of that name", async () => {
    const ids = new CallerIdentifier(() => config, { keySetTiming: FAST_KEY_SETS });
    const token = await partners.sign({ sub: 'partner-bob' });
    const headers = { authorization: `Bearer ${token}` };
    const partner = await ids.identify(headers, routeNamed(config, 'partner'));
    assert.equal(partner.caller.userKey, 'partner-bob');
    // The staff route's provider wants another issuer and audience: the token is not valid
    // there, though the partner route just verified it under the same provider name.
    const error = await rejection(() => ids.identify(headers, routeNamed(config, 'staff')));
    assert.equal(error.code, DataPlaneErrorCode.Unauthenticated);
    assert.equal(reasonOf(error), 'unknown-issuer');
  });
});

describe('CallerIdentifier when the key set cannot be fetched', () => {
  type Behaviour = 'status-503' | 'not-json' | 'not-a-key-set' | 'hang';
  let behaviour: Behaviour = 'status-503';
  const held: ServerResponse[] = [];
  const keyServer = createServer((_request, response) => {
    if (behaviour === 'status-503') response.writeHead(503).end();
    else if (behaviour === 'not-json') response.writeHead(200).end('<html>oops</html>');
    else if (behaviour === 'not-a-key-set') response.writeHead(200).end('{"keys": 7}');
    else held.push(response);
  });
  let issuer: TestIssuer;
  let token: string;

  before(async () => {
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    token = await issuer.sign({ sub: 'alice', plan: 'pro' });
  });
  after(async () => {
    for (const response of held) response.destroy();
    keyServer.closeAllConnections();
    await new Promise((resolve) => keyServer.close(resolve));
  });

  const keyServerUrl = () =>
    `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/.well-known/jwks.json`;

  async function refusal(jwksUri: string, timing: Partial<KeySetTiming> = {}) {
    const config = gatewayConfig(jwksUri);
    const ids = new CallerIdentifier(() => config, {
      keySetTiming: { ...FAST_KEY_SETS, ...timing },
    });
    const secured = routeNamed(config, 'secured');
    return {
      first: await rejection(() => ids.identify({ authorization: `Bearer ${token}` }, secured)),
      again: () => rejection(() => ids.identify({ authorization: `Bearer ${token}` }, secured)),
    };
  }

  function assertUnavailable(error: DataPlaneError, failure: KeySetFailure): void {
    assert.equal(error.code, DataPlaneErrorCode.NoBackendAvailable);
    assert.equal(error.httpStatus, 503);
    assert.equal(error.retryAfterMs, 5_000);
    assert.equal(error.upstreamCode, 'identity_provider_unavailable');
    assert.ok(error.cause instanceof KeysUnavailable);
    assert.equal(error.cause.failure, failure);
    assert.ok(!error.message.includes(token.split('.')[1].slice(0, 16)));
  }

  it('answers 503 with Retry-After, not 401, for a key server answering an error status', async () => {
    behaviour = 'status-503';
    assertUnavailable((await refusal(keyServerUrl())).first, 'bad_response');
  });

  it('answers 503 for a key server answering garbage', async () => {
    behaviour = 'not-json';
    assertUnavailable((await refusal(keyServerUrl())).first, 'bad_response');
    behaviour = 'not-a-key-set';
    assertUnavailable((await refusal(keyServerUrl())).first, 'bad_response');
  });

  it('answers 503 for a key server that is down or does not answer in time', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    assertUnavailable((await refusal(`http://127.0.0.1:${port}/jwks.json`)).first, 'unreachable');

    behaviour = 'hang';
    assertUnavailable((await refusal(keyServerUrl(), { fetchTimeoutMs: 200 })).first, 'timeout');
  });

  it('answers 503 while the attempt floor holds the next fetch back', async () => {
    behaviour = 'status-503';
    const { first, again } = await refusal(keyServerUrl(), { minAttemptIntervalMs: 60_000 });
    assertUnavailable(first, 'bad_response');
    assertUnavailable(await again(), 'backoff');
  });
});

describe('CallerIdentifier: a verified user claim that cannot name one user exactly', () => {
  const jwks = new LocalJwksServer();
  let issuer: TestIssuer;
  let config: GatewayConfig;

  const route = (name: string, identification: string) =>
    `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: ${name}}
spec:
  backends: [{name: ${name}-backend, provider: local}]
  userIdentification: ${identification}
`;

  before(async () => {
    await jwks.start();
    issuer = await TestIssuer.create(ISSUER, 'ai-gateway');
    jwks.publish(issuer.publicJwk);
    config = loadConfig(
      [
        route('by-claim', '{jwt: {claim: sub, provider: corp}}'),
        route('by-header', '{header: x-user-id}'),
        route('by-team', '{header: x-team}'),
        `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: corp-auth}
spec:
  targetRefs:
  - {kind: AIGatewayRoute, name: by-claim}
  - {kind: AIGatewayRoute, name: by-header}
  - {kind: AIGatewayRoute, name: by-team}
  jwt:
    providers:
    - name: corp
      issuer: ${ISSUER}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "${jwks.url}"}
      claimToHeaders: [{claim: sub, header: x-user-id}]
`,
      ].join('---\n'),
    );
  });
  after(() => jwks.stop());

  const identifyBoth = async (claims: Record<string, unknown>) => {
    const ids = new CallerIdentifier(() => config, { keySetTiming: FAST_KEY_SETS });
    const headers = { authorization: `Bearer ${await issuer.sign(claims)}` };
    return Promise.all(
      ['by-claim', 'by-header'].map(async (name) => {
        try {
          return await ids.identify(headers, routeNamed(config, name));
        } catch (error) {
          assert.ok(error instanceof DataPlaneError, `expected a DataPlaneError: ${String(error)}`);
          return error;
        }
      }),
    );
  };

  it('refuses one that is not a string or a whole number, never making the caller anonymous', async () => {
    for (const sub of [{ id: 'alice' }, ['alice'], true, 2 ** 60, 1.5, '', '   ']) {
      for (const outcome of await identifyBoth({ sub })) {
        assert.ok(outcome instanceof DataPlaneError, `sub ${JSON.stringify(sub)} was accepted`);
        assert.equal(outcome.code, DataPlaneErrorCode.Unauthenticated);
        assert.equal(reasonOf(outcome), 'unusable-user-claim');
        assert.equal(
          outcome.message,
          "The bearer token's claim 'sub' does not name a user: it must be a whole number, or a non-empty string without control characters or surrounding spaces",
        );
      }
    }
  });

  it('refuses one another user id would be taken for: padded, control characters, broken Unicode', async () => {
    // Each would be alice (trimmed), or the same bytes as another id once encoded as UTF-8.
    for (const sub of [' alice', 'alice\u00a0', 'alice\n', 'al\u0000ice', 'al\ud800ice']) {
      for (const outcome of await identifyBoth({ sub })) {
        assert.ok(outcome instanceof DataPlaneError, `sub ${JSON.stringify(sub)} was accepted`);
        assert.equal(reasonOf(outcome), 'unusable-user-claim');
      }
    }
  });

  it('takes a whole number as its decimal string', async () => {
    for (const outcome of await identifyBoth({ sub: 4_294_967_296 })) {
      assert.ok(!(outcome instanceof Error));
      assert.equal(outcome.caller.userKey, '4294967296');
    }
  });

  it('refuses a token without the claim, where the route reads users from its provider', async () => {
    // A client that leaves out a scope (email, say) gets a token without that claim: it
    // must not become anonymous, escaping its own budget into the one every such caller shares.
    for (const outcome of await identifyBoth({ email: 'alice@example.com' })) {
      assert.ok(outcome instanceof DataPlaneError, 'a token naming no user was accepted');
      assert.equal(outcome.code, DataPlaneErrorCode.Unauthenticated);
      assert.equal(reasonOf(outcome), 'no-user-claim');
      assert.equal(outcome.message, "The bearer token does not name a user: it has no claim 'sub'");
    }
    // Where the route reads no user from this provider's tokens (a configuration problem,
    // identityConfigProblems says so), its callers stay anonymous, as before.
    const ids = new CallerIdentifier(() => config, { keySetTiming: FAST_KEY_SETS });
    const token = await issuer.sign({ sub: 'alice' });
    const identity = await ids.identify(
      { authorization: `Bearer ${token}`, 'x-team': 'spoofed' },
      routeNamed(config, 'by-team'),
    );
    assert.equal(identity.caller.userKey, 'anonymous');
  });

  it('refuses a claim past the header-safe length as too long, not as anonymous', async () => {
    for (const outcome of await identifyBoth({ sub: 's'.repeat(600) })) {
      assert.ok(outcome instanceof DataPlaneError);
      assert.equal(outcome.code, DataPlaneErrorCode.InvalidRequest);
      assert.match(outcome.message, /user identifier \((claim 'sub'|header 'x-user-id')\)/);
    }
  });
});
