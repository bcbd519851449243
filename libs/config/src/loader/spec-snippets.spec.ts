// Every gateway YAML snippet of the reference spec, copied verbatim into test-fixtures/,
// must load as written (whole documents) or under an AIGatewayRoute spec (fragments).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { type GatewayConfig, type RouteConfig } from '../domain/gateway-config';
import { virtualModels } from '../domain/model-resolution';
import { parseGatewayConfig, type LoadResult } from './load-config';

const FIXTURES = join(__dirname, '../../test-fixtures');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
// The reference spec the fixtures were copied from, in the shared folder beside the repo.
const SEED = resolve(__dirname, '../../../../../shared/seed/000_cccbe408eb66caf9.txt');
// Lenient secrets and an empty environment: the spec's keys do not exist here.
const options = { missingSecrets: 'warn', env: {} } as const;

/** A fragment placed under `spec:` of a route named "fragment", indentation preserved. */
export function wrapInRoute(fragment: string, name = 'fragment'): string {
  const indented = fragment
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
  return `apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: ${name}\nspec:\n${indented}`;
}

function loaded(result: LoadResult): {
  config: GatewayConfig;
  warnings: string[];
  inferences: string[];
  notes: string[];
  skippedDocuments: number;
} {
  if (!result.ok) assert.fail(result.errors.map((e) => e.format()).join('\n'));
  return result;
}

function onlyRoute(config: GatewayConfig): RouteConfig {
  assert.equal(config.routes.length, 1);
  return config.routes[0];
}

describe('spec snippets (test-fixtures)', () => {
  it('has one fixture per YAML snippet of the spec', () => {
    assert.equal(readdirSync(FIXTURES).filter((f) => f.startsWith('spec-')).length, 12);
  });

  it(
    'each fixture is its spec snippet byte for byte, in the order of the spec',
    { skip: existsSync(SEED) ? false : `the reference spec is not at ${SEED}` },
    () => {
      const spec = readFileSync(SEED, 'utf8');
      // A block's text runs from the line after "```yaml" to the closing fence's line.
      const blocks = [...spec.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
      const names = readdirSync(FIXTURES)
        .filter((f) => f.startsWith('spec-'))
        .sort();
      assert.equal(blocks.length, names.length, 'one yaml block per fixture');
      for (const [index, name] of names.entries()) {
        assert.equal(fixture(name), blocks[index], name);
      }
    },
  );

  it('01 token rate limiting: costs, multipliers and budget', () => {
    const { config, inferences } = loaded(
      parseGatewayConfig(fixture('spec-01-token-rate-limiting.route.yaml'), options),
    );
    const route = onlyRoute(config);
    assert.equal(route.name, 'llm-route');
    assert.deepEqual(route.llmRequestCosts, [
      { type: 'InputToken', weight: 1 },
      { type: 'OutputToken', weight: 3 },
      { type: 'TotalToken', weight: 1 },
    ]);
    assert.deepEqual(
      route.modelCosts.map((c) => [c.model, c.multiplier]),
      [
        ['gpt-4', 10],
        ['gpt-3.5-turbo', 1],
        ['claude-3-opus', 15],
        ['claude-3-sonnet', 3],
      ],
    );
    assert.deepEqual(route.tokenBudget?.perUser, {
      limit: 100000,
      period: { unit: 'fixed', ms: 30 * 86_400_000, text: '30d' },
    });
    assert.equal(route.tokenBudget?.perMinute?.limit, 10000);
    assert.ok(inferences.some((n) => n.includes('not a calendar month')));
  });

  it('02 user identification (fragment): JWT claim first, then header', () => {
    for (const text of [
      wrapInRoute(fixture('spec-02-user-identification.fragment.yaml')),
      fixture('spec-02-user-identification.fragment.yaml'),
    ]) {
      const { config, warnings } = loaded(parseGatewayConfig(text, options));
      assert.deepEqual(onlyRoute(config).userIdentification.sources, [
        { kind: 'jwt', claim: 'sub', provider: 'auth0' },
        { kind: 'header', header: 'x-user-id' },
      ]);
      assert.ok(warnings.some((w) => w.includes('"auth0" is not a JWT provider')));
    }
  });

  it('03 priority-based routing: three backends in priority order with overrides', () => {
    const { config } = loaded(
      parseGatewayConfig(fixture('spec-03-priority-based-routing.route.yaml'), options),
    );
    const route = onlyRoute(config);
    assert.deepEqual(
      route.backends.map((b) => [b.name, b.priority, b.provider, b.model, b.virtualModel]),
      [
        ['openai-gpt4', 0, 'openai', 'gpt-4', 'gpt-4'],
        ['anthropic-claude', 1, 'anthropic', 'claude-3-opus', 'gpt-4'],
        ['google-gemini', 2, 'google-gemini', 'gemini-pro', 'gpt-4'],
      ],
    );
    assert.equal(route.backends[1].modelNameOverride, 'gpt-4');
    assert.deepEqual(route.failover, {
      on: ['rateLimit', 'timeout', 'error', 'budgetExceeded'],
      retryAttempts: undefined,
      retryDelayMs: 0,
    });
    const auth = route.backends[2].auth;
    assert.equal(auth.kind, 'apiKey');
    assert.ok(
      auth.kind === 'apiKey' && auth.headerName === 'x-goog-api-key' && auth.apiKey === undefined,
    );
    assert.deepEqual(virtualModels(config), ['gpt-4']);
  });

  it('04 model name virtualization (fragment): providers inferred from backend names', () => {
    for (const text of [
      wrapInRoute(fixture('spec-04-model-name-virtualization.fragment.yaml')),
      fixture('spec-04-model-name-virtualization.fragment.yaml'),
    ]) {
      const { config, inferences } = loaded(parseGatewayConfig(text, options));
      const route = onlyRoute(config);
      assert.deepEqual(
        route.backends.map((b) => [b.name, b.provider, b.virtualModel]),
        [
          ['openai', 'openai', 'gpt-4'],
          ['anthropic', 'anthropic', 'gpt-4'],
        ],
      );
      assert.equal(route.backends[1].model, 'claude-3-opus');
      assert.ok(
        inferences.some((n) => n.includes('provider anthropic inferred from the backend name')),
      );
      assert.deepEqual(virtualModels(config), ['gpt-4']);
    }
  });

  it('05 tiered service plans: a kind-less top-level userTiers document', () => {
    const { config } = loaded(
      parseGatewayConfig(fixture('spec-05-tiered-service-plans.tiers.yaml'), options),
    );
    assert.equal(config.routes.length, 0);
    assert.deepEqual(
      config.userTiers.map((t) => [t.name, t.tokenBudget]),
      [
        ['free', { kind: 'daily', tokens: 10000 }],
        ['pro', { kind: 'daily', tokens: 100000 }],
        ['enterprise', { kind: 'unlimited' }],
      ],
    );
    assert.deepEqual(config.userTiers[0].selector, { header: 'x-plan', value: 'free' });
    assert.deepEqual(config.userTiers[1].allowedModels, ['gpt-4', 'gpt-3.5-turbo']);
    assert.deepEqual(config.userTiers[2].costTracking, { enabled: true, alertThreshold: 1000 });
  });

  it('05 tiered service plans: also accepted under an AIGatewayRoute spec', () => {
    const { config } = loaded(
      parseGatewayConfig(wrapInRoute(fixture('spec-05-tiered-service-plans.tiers.yaml')), options),
    );
    assert.deepEqual(
      onlyRoute(config).userTiers.map((t) => t.name),
      ['free', 'pro', 'enterprise'],
    );
  });

  it('06 request caching (fragment): ttl, key, size and object backend', () => {
    const { config } = loaded(
      parseGatewayConfig(wrapInRoute(fixture('spec-06-request-caching.fragment.yaml')), options),
    );
    assert.deepEqual(onlyRoute(config).caching, {
      enabled: true,
      ttlMs: 3_600_000,
      keyComponents: ['prompt', 'model', 'temperature'],
      maxSizeBytes: 10_000_000_000,
      backend: { type: 'redis', address: 'redis:6379' },
    });
  });

  it('07 request deduplication (fragment): 5 s window', () => {
    const { config } = loaded(
      parseGatewayConfig(
        wrapInRoute(fixture('spec-07-request-deduplication.fragment.yaml')),
        options,
      ),
    );
    assert.deepEqual(onlyRoute(config).deduplication, {
      enabled: true,
      windowMs: 5000,
      keyComponents: ['prompt', 'model'],
    });
  });

  it('08 retry with cheaper model (fragment): loads, and warns about models no backend serves', () => {
    const { config, warnings } = loaded(
      parseGatewayConfig(
        wrapInRoute(fixture('spec-08-retry-cheaper-model.fragment.yaml')),
        options,
      ),
    );
    assert.deepEqual(onlyRoute(config).retry, {
      maxAttempts: 3,
      fallbackStrategy: 'cheaperModel',
      fallbackOrder: ['gpt-4', 'gpt-3.5-turbo', 'gemini-flash'],
    });
    const warning = warnings.find((w) => w.includes('spec.retry.fallbackOrder'));
    assert.ok(warning?.includes('"gemini-flash"'), warning);
  });

  it('09 credential injection (fragment): explicit header, ref with key, wildcard model', () => {
    const { config, inferences } = loaded(
      parseGatewayConfig(
        wrapInRoute(fixture('spec-09-credential-injection.fragment.yaml')),
        options,
      ),
    );
    const backend = onlyRoute(config).backends[0];
    assert.equal(backend.provider, 'openai');
    assert.equal(backend.model, undefined);
    assert.equal(backend.virtualModel, undefined);
    assert.deepEqual(backend.auth, {
      kind: 'apiKey',
      headerName: 'Authorization',
      headerPrefix: 'Bearer ',
      secretRef: { name: 'llm-credentials', key: 'openai-api-key' },
    });
    assert.equal(backend.requestTimeoutMs, 300_000);
    assert.equal(backend.firstByteTimeoutMs, 15_000);
    assert.ok(inferences.some((n) => n.includes('serves whatever model the client asks for')));
  });

  it('10 request sanitization (fragment): headers and compiled-checked patterns', () => {
    const { config } = loaded(
      parseGatewayConfig(
        wrapInRoute(fixture('spec-10-request-sanitization.fragment.yaml')),
        options,
      ),
    );
    const { security } = onlyRoute(config);
    assert.deepEqual(security.stripHeaders, ['x-internal-auth', 'x-user-password']);
    assert.equal(security.promptValidation.enabled, true);
    assert.deepEqual(security.promptValidation.blockPatterns, [
      'ssn:\\s*\\d{3}-\\d{2}-\\d{4}',
      'credit_card:\\s*\\d{16}',
    ]);
    assert.match('ssn: 123-45-6789', new RegExp(security.promptValidation.blockPatterns[0]));
  });

  it('11 ServiceMonitor: accepted as written, skipped with a note naming the kind and why', () => {
    const { config, warnings, notes, skippedDocuments } = loaded(
      parseGatewayConfig(fixture('spec-11-service-monitor.not-gateway.yaml'), options),
    );
    assert.equal(config.documentCount, 1);
    assert.equal(skippedDocuments, 1);
    assert.deepEqual(config.routes, []);
    assert.equal(notes.length, 1);
    assert.match(
      notes[0],
      /^2: document 1 \(ServiceMonitor "ai-gateway"\): skipped: ServiceMonitor is a Prometheus Operator resource for the cluster, not gateway configuration/,
    );
    assert.deepEqual(warnings, [
      'no AIGatewayRoute left once the skipped documents are set aside: no model is served',
    ]);
  });

  it('12 complete example: route and security policy', () => {
    const { config } = loaded(
      parseGatewayConfig(fixture('spec-12-complete-agent-platform.route.yaml'), options),
    );
    assert.equal(config.documentCount, 2);
    const route = onlyRoute(config);
    assert.equal(route.name, 'agent-platform');
    assert.deepEqual(route.failover, {
      on: ['rateLimit', 'timeout', 'budgetExceeded'],
      retryAttempts: 2,
      retryDelayMs: 1000,
    });
    assert.deepEqual(route.caching.backend, { type: 'redis' });
    assert.equal(route.caching.ttlMs, 3_600_000);
    assert.deepEqual(route.tokenRateLimit, {
      perUser: {
        inputTokensPerMinute: 5000,
        outputTokensPerMinute: 10000,
        totalTokensPerDay: 100000,
      },
      perModel: {
        'gpt-4-turbo': { tokensPerMinute: 2000 },
        'gpt-3.5-turbo': { tokensPerMinute: 10000 },
      },
    });
    assert.deepEqual(route.costControl, {
      maxDailyCostPerUser: 10,
      alertThreshold: 8,
      modelPricing: {
        'gpt-4-turbo': { inputPer1k: 0.01, outputPer1k: 0.03 },
        'claude-3-sonnet': { inputPer1k: 0.003, outputPer1k: 0.015 },
      },
    });
    const anthropic = route.backends[1];
    assert.equal(anthropic.auth.kind, 'apiKey');
    assert.ok(anthropic.auth.kind === 'apiKey' && anthropic.auth.headerName === 'x-api-key');
    assert.deepEqual(virtualModels(config), ['gpt-4-turbo', 'gpt-4']);
    assert.deepEqual(config.securityPolicies, [
      {
        name: 'agent-auth',
        targetRefs: [{ kind: 'AIGatewayRoute', name: 'agent-platform' }],
        jwtProviders: [
          {
            name: 'agent-auth',
            issuer: 'https://auth.agent-platform.com',
            jwksUri: 'https://auth.agent-platform.com/.well-known/jwks.json',
            audiences: [],
            claimToHeaders: [
              { claim: 'sub', header: 'x-user-id' },
              { claim: 'plan', header: 'x-user-plan' },
            ],
          },
        ],
      },
    ]);
  });

  it('every fragment also loads as a kind-less document (implicit route "default")', () => {
    for (const name of readdirSync(FIXTURES).filter((f) => f.includes('.fragment.'))) {
      const { config, inferences } = loaded(parseGatewayConfig(fixture(name), options));
      assert.equal(onlyRoute(config).name, 'default', name);
      assert.ok(
        inferences.some((n) => n.includes('no kind: read as the spec of an AIGatewayRoute')),
        name,
      );
    }
  });

  it('all fragments together under one route spec load as one route', () => {
    const fragments = readdirSync(FIXTURES)
      .filter((f) => f.includes('.fragment.') && !f.includes('model-name-virtualization'))
      .map(fixture)
      .join('\n');
    const { config } = loaded(parseGatewayConfig(wrapInRoute(fragments), options));
    assert.equal(onlyRoute(config).backends.length, 1);
  });

  it('the loaded config is deep-frozen', () => {
    const { config } = loaded(
      parseGatewayConfig(fixture('spec-12-complete-agent-platform.route.yaml'), options),
    );
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.routes[0].backends[0]));
    assert.throws(() => {
      (config.routes as RouteConfig[]).push(config.routes[0]);
    });
  });
});
