// A large but valid gateway config, for measuring how the loader scales: routes of 50
// backends each (every way the spec writes a backend: provider given or inferred from the
// name, API key with and without a custom header, SigV4, timeouts, override, base URL),
// each route with every policy block, one SecurityPolicy per route, and one tier list.
// The keys come back as environment variables, so the load needs no lenient options.
import { secretEnvVarName } from '../secrets/secret-resolver';

export interface LargeConfigSize {
  readonly backends: number;
  readonly tiers: number;
  /** Backends per route (default 50): one large route is the worst case for per-route work. */
  readonly backendsPerRoute?: number;
  /** Varies the text without changing its meaning (a reload that must really re-read). */
  readonly revision?: number;
}

export interface LargeConfig {
  readonly text: string;
  readonly env: Record<string, string>;
  readonly routes: number;
}

/** Keys shared by the backends of a route: a few secrets, as a real file has. */
const KEYS_PER_ROUTE = 5;

export function largeConfig({
  backends,
  tiers,
  backendsPerRoute = 50,
  revision = 0,
}: LargeConfigSize): LargeConfig {
  const routes = Math.max(1, Math.ceil(backends / backendsPerRoute));
  const env: Record<string, string> = {};
  const docs: string[] = [];
  const served: string[] = [];
  for (let r = 0; r < routes; r++) {
    const count = Math.min(backendsPerRoute, backends - r * backendsPerRoute);
    for (let k = 0; k < KEYS_PER_ROUTE; k++) {
      env[secretEnvVarName({ name: `key-${r}-${k}`, key: 'apiKey' })] = `sk-test-${r}-${k}`;
    }
    const models = Array.from({ length: Math.max(0, count) }, (_, i) => modelOf(r, i));
    served.push(...models.map((m, i) => (i % 4 === 1 ? `alias-${m}` : m)));
    docs.push(routeDocument(r, models));
    docs.push(securityPolicyDocument(r));
  }
  docs.push(tiersDocument(tiers, served));
  const text = `# revision ${revision}\n${docs.join('---\n')}`;
  return { text, env, routes };
}

function modelOf(route: number, index: number): string {
  return `model-${route}-${index}`;
}

function backendYaml(route: number, index: number, model: string): string {
  const key = `key-${route}-${index % KEYS_PER_ROUTE}`;
  switch (index % 4) {
    case 0:
      return `  - name: openai-${route}-${index}
    priority: ${index % 3}
    provider: openai
    model: ${model}
    weight: ${1 + (index % 5)}
    auth:
      type: APIKey
      apiKeyRef:
        name: ${key}
`;
    case 1:
      // Provider and auth type inferred; renamed for clients.
      return `  - name: anthropic-${route}-${index}
    priority: ${index % 3}
    model: ${model}
    modelNameOverride: alias-${model}
    requestTimeout: 120s
    firstByteTimeout: 10s
    auth:
      apiKeyRef: {name: ${key}}
`;
    case 2:
      return `  - name: bedrock-${route}-${index}
    priority: ${index % 3}
    provider: bedrock
    model: ${model}
    streamIdleTimeout: 60s
`;
    default:
      // No priority: taken from its position.
      return `  - name: custom-${route}-${index}
    provider: openai
    model: ${model}
    baseUrl: https://llm-${route}.internal.example/v1/
    auth:
      type: APIKey
      apiKeyRef:
        name: ${key}
        key: apiKey
      headerName: Authorization
      headerPrefix: "Bearer "
`;
  }
}

function routeDocument(route: number, models: readonly string[]): string {
  const backends = models.map((model, index) => backendYaml(route, index, model)).join('');
  const first = models[0] ?? 'none';
  // A route of one or two backends names its first model only.
  const second = models[2];
  const secondCost = second === undefined ? '' : `    - model: ${second}\n      multiplier: 1\n`;
  const fallbacks = second === undefined ? first : `${first}, ${second}`;
  return `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata:
  name: route-${route}
spec:
  backends:
${backends}  failover:
    on: [rateLimit, timeout, error, budgetExceeded]
    retryAttempts: 2
    retryDelay: 1s
  loadBalancing:
    strategy: lowest-latency
    explorationPercent: 10
  llmRequestCosts:
    - type: InputToken
      weight: 1
    - type: OutputToken
      weight: 3
  modelCosts:
    - model: ${first}
      multiplier: 10
${secondCost}  tokenBudget:
    perUser:
      limit: 100000
      period: 30d
    perMinute:
      limit: 10000
  tokenRateLimit:
    perUser:
      inputTokensPerMinute: 5000
      outputTokensPerMinute: 10000
      totalTokensPerDay: 100000
    perModel:
      ${first}:
        tokensPerMinute: 2000
  userIdentification:
    header: x-user-id
    jwt:
      claim: sub
      provider: auth-${route}
  costControl:
    maxDailyCostPerUser: 10.00
    alertThreshold: 8.00
    modelPricing:
      ${first}:
        inputPer1k: 0.01
        outputPer1k: 0.03
  caching:
    enabled: true
    ttl: 3600s
    keyComponents: [prompt, model, temperature]
    maxSize: 10GB
    backend:
      type: redis
      address: redis:6379
  deduplication:
    enabled: true
    window: 5s
    keyComponents: [prompt, model]
  retry:
    maxAttempts: 2
    fallbackStrategy: cheaperModel
    fallbackOrder: [${fallbacks}]
  security:
    stripHeaders: [x-internal-auth, x-user-password]
    promptValidation:
      enabled: true
      blockPatterns:
      - "ssn:\\\\s*\\\\d{3}-\\\\d{2}-\\\\d{4}"
      - "credit_card:\\\\s*\\\\d{16}"
`;
}

function securityPolicyDocument(route: number): string {
  return `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata:
  name: jwt-${route}
spec:
  targetRefs:
  - kind: AIGatewayRoute
    name: route-${route}
  jwt:
    providers:
    - name: auth-${route}
      issuer: https://issuer-${route}.example/
      audiences: [ai-gateway]
      remoteJWKS:
        uri: https://issuer-${route}.example/.well-known/jwks.json
      claimToHeaders:
      - claim: sub
        header: X-User-Id
`;
}

function tiersDocument(count: number, served: readonly string[]): string {
  const tiers: string[] = [];
  for (let t = 0; t < count; t++) {
    const allowed =
      served.length === 0 ? [] : [served[t % served.length], served[(t * 7) % served.length]];
    // Now and then a model no route serves: a warning, as a real file's retired models give.
    if (t % 50 === 49) allowed.push('retired-model');
    const budget = t % 10 === 0 ? 'unlimited: true' : `daily: ${10_000 * (1 + (t % 9))}`;
    const tracking =
      t % 3 === 0 ? `  costTracking:\n    enabled: true\n    alertThreshold: ${100 + t}\n` : '';
    tiers.push(`- name: tier-${t}
  selector:
    header: x-plan
    value: plan-${t}
  tokenBudget:
    ${budget}
  allowedModels: [${[...new Set(allowed)].join(', ')}]
${tracking}`);
  }
  return `userTiers:\n${tiers.join('')}`;
}
