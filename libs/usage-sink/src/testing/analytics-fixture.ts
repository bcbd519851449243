import {
  BudgetAdjustmentAction,
  BudgetState,
  BudgetUnit,
  CompletionStatus,
  createBudgetAdjusted,
  createBudgetStateChanged,
  createFallbackOccurred,
  createRequestAccepted,
  createRequestCompleted,
  createRequestPayloadLogged,
  createRequestRejected,
  createTokenUsageRecorded,
  FallbackReason,
  GatewayEndpoint,
  LimitKind,
  RejectReason,
  UsageSource,
  type GatewayEvent,
  type RequestCompleted,
  type RequestPayloadLogged,
  type TokenUsageRecorded,
} from '@aigw/contracts';

// A deterministic workload for the analytics suites: every number the API must answer
// is computed here from the same events the store is fed.

/** A user name that needs escaping in SQL, to prove no input is concatenated raw. */
export const ODD_USER = "o'brien\\x; DROP TABLE usage_events; --";

const USERS = ['alice', 'bob', ODD_USER];
const MODELS = [
  { model: 'gpt-4o-mini', provider: 'openai', price: 0.000001 },
  { model: 'claude-3-haiku', provider: 'anthropic', price: 0.000002 },
];
const TIERS = ['free', 'pro'];
/** Operations usage events name; undefined: an event of a build before they named one. */
const OPERATIONS = ['chat', 'embeddings', 'transcriptions', undefined];
/** Routes of the backend that served; undefined: an event of a build before they named one. */
export const ROUTES = ['main', 'embed', undefined];
/** Hours the events fall in: two on one day, one on the next. */
export const HOURS = ['2026-03-01T10:00:00Z', '2026-03-01T11:00:00Z', '2026-03-02T00:00:00Z'];
export const RANGE = { from: '2026-03-01T00:00:00Z', to: '2026-03-03T00:00:00Z' };

export interface Workload {
  readonly events: readonly GatewayEvent[];
  readonly usage: readonly TokenUsageRecorded[];
  readonly completed: readonly RequestCompleted[];
}

export function buildWorkload(requests = 60): Workload {
  const events: GatewayEvent[] = [];
  const usage: TokenUsageRecorded[] = [];
  const completed: RequestCompleted[] = [];
  for (let i = 0; i < requests; i++) {
    const user = USERS[i % USERS.length];
    const { model, provider, price } = MODELS[i % 5 < 3 ? 0 : 1];
    const tier = TIERS[i % 3 === 0 ? 1 : 0];
    const at = new Date(Date.parse(HOURS[i % HOURS.length]) + (i % 50) * 60_000 + 1_234);
    const requestId = `req-${i}`;
    const partitionKey = user;
    const cacheHit = i % 7 === 0;
    const inputTokens = 10 + i;
    const outputTokens = cacheHit ? 0 : 5 + (i % 4);
    const fellBack = i % 6 === 1;
    // Pairs of requests per route, so routes cross users, operations and hours.
    const route = ROUTES[Math.floor(i / 2) % ROUTES.length];
    events.push(
      createRequestAccepted(
        {
          requestId,
          partitionKey,
          userId: user,
          endpoint: GatewayEndpoint.ChatCompletions,
          modelRequested: model,
          stream: i % 2 === 0,
          tier,
        },
        { occurredAt: at },
      ),
    );
    if (fellBack) {
      events.push(
        createFallbackOccurred(
          {
            requestId,
            partitionKey,
            userId: user,
            modelRequested: model,
            fromBackend: 'primary',
            fromProvider: 'azure',
            fromModel: model,
            toBackend: 'secondary',
            toProvider: provider,
            toModel: model,
            reason: i % 12 === 1 ? FallbackReason.RateLimit : FallbackReason.Timeout,
            attempt: 1,
          },
          { occurredAt: at },
        ),
      );
    }
    // Some Claude answers ran web searches (a server tool), billed beside their tokens.
    const webSearches = provider === 'anthropic' && !cacheHit && i % 2 === 0 ? 1 + (i % 3) : 0;
    const u = createTokenUsageRecorded(
      {
        requestId,
        partitionKey,
        userId: user,
        inputTokens,
        outputTokens,
        cachedInputTokens: i % 4 === 0 ? 3 : 0,
        ...(i % 5 === 2 ? { cacheWriteInputTokens: 4 } : {}),
        ...(webSearches > 0 ? { webSearchRequests: webSearches } : {}),
        usageSource: UsageSource.Reported,
        modelRequested: model,
        modelServed: model,
        provider,
        backend: 'secondary',
        tier,
        costDollars: cacheHit ? 0 : (inputTokens + outputTokens) * price + webSearches * 0.01,
        weightedTokenCost: inputTokens + outputTokens * 2,
        cacheHit,
        operation: OPERATIONS[i % OPERATIONS.length],
        ...(route === undefined ? {} : { route }),
      },
      { occurredAt: at },
    );
    usage.push(u);
    events.push(u);
    const c = createRequestCompleted(
      {
        requestId,
        partitionKey,
        userId: user,
        endpoint: GatewayEndpoint.ChatCompletions,
        status: i % 10 === 9 ? CompletionStatus.UpstreamError : CompletionStatus.Success,
        httpStatus: i % 10 === 9 ? 502 : 200,
        latencyMs: 20 + ((i * 37) % 400) + 0.5,
        ttfbMs: 5 + (i % 9),
        provider,
        backend: 'secondary',
        modelRequested: model,
        modelServed: model,
        stream: i % 2 === 0,
        cached: cacheHit,
        attempts: fellBack ? 2 : cacheHit ? 0 : 1,
        tier,
        ...(route === undefined ? {} : { route }),
      },
      { occurredAt: at },
    );
    completed.push(c);
    events.push(c);
  }
  for (let i = 0; i < 4; i++) {
    events.push(
      createRequestRejected(
        {
          requestId: `rej-${i}`,
          partitionKey: USERS[i % 2],
          userId: USERS[i % 2],
          endpoint: GatewayEndpoint.ChatCompletions,
          reason: RejectReason.BudgetExhausted,
          httpStatus: 429,
          modelRequested: MODELS[0].model,
          tier: TIERS[0],
          limitKind: LimitKind.TokenBudgetPerUser,
        },
        { occurredAt: HOURS[i % 2] },
      ),
    );
  }
  // Two states of one limit: the later one is what the budgets panel shows.
  for (const [index, state] of [BudgetState.Exhausted, BudgetState.Recovered].entries()) {
    events.push(
      createBudgetStateChanged(
        {
          requestId: null,
          partitionKey: 'alice',
          budgetKey: 'alice',
          limitKind: LimitKind.TokenBudgetPerUser,
          windowId: '2026-03',
          state,
          remaining: index === 0 ? 0 : 500,
          limit: 1000,
          unit: BudgetUnit.Tokens,
          resetAt: '2026-04-01T00:00:00.000Z',
        },
        { occurredAt: new Date(Date.parse(HOURS[0]) + index * 250) },
      ),
    );
  }
  // A request-count limit (an extension to the spec), in its own unit.
  events.push(
    createBudgetStateChanged(
      {
        requestId: null,
        partitionKey: 'alice',
        budgetKey: 'alice',
        limitKind: LimitKind.UserRequestsPerMinute,
        windowId: '60000@1772359200000',
        state: BudgetState.Exhausted,
        remaining: 0,
        limit: 3,
        unit: BudgetUnit.Requests,
        resetAt: '2026-03-01T10:01:00.000Z',
      },
      { occurredAt: new Date(Date.parse(HOURS[0]) + 500) },
    ),
  );
  events.push(...budgetAdjustments());
  return { events, usage, completed };
}

/** What the budget adjustments of the workload are, by name, as the API must list them. */
export interface ExpectedAdjustment {
  readonly at: string;
  readonly user: string;
  readonly action: BudgetAdjustmentAction;
  readonly limitKind: string;
  readonly amount: number | null;
  readonly reason: string | null;
  readonly operator: string | null;
}

/**
 * Operators' adjustments of the workload, oldest first: a credit to a user whose name
 * needs escaping, a reset of every limit and a dollar credit of alice's within one second
 * (told apart by milliseconds), and a request credit of bob's. Two name their operator
 * (one with a name that needs escaping), two do not (as events made before operators).
 */
export const ADJUSTMENTS: readonly ExpectedAdjustment[] = [
  {
    at: '2026-03-01T10:00:00.100Z',
    user: ODD_USER,
    action: BudgetAdjustmentAction.Credit,
    limitKind: LimitKind.TokenBudgetPerUser,
    amount: 5000,
    reason: "refund: the provider's outage",
    operator: "o'brien",
  },
  {
    at: '2026-03-01T11:00:00.100Z',
    user: 'alice',
    action: BudgetAdjustmentAction.Reset,
    limitKind: 'all',
    amount: null,
    reason: null,
    operator: null,
  },
  {
    at: '2026-03-01T11:00:00.900Z',
    user: 'alice',
    action: BudgetAdjustmentAction.Credit,
    limitKind: LimitKind.MaxDailyCostPerUser,
    amount: 2.5,
    reason: 'support ticket 42',
    operator: 'sre-oncall',
  },
  {
    at: '2026-03-02T00:00:00.000Z',
    user: 'bob',
    action: BudgetAdjustmentAction.Credit,
    limitKind: LimitKind.UserRequestsPerMinute,
    amount: 10,
    reason: null,
    operator: null,
  },
];

function budgetAdjustments(): GatewayEvent[] {
  return ADJUSTMENTS.map((a) =>
    createBudgetAdjusted(
      {
        partitionKey: a.user,
        userKey: a.user,
        action: a.action,
        ...(a.limitKind === 'all' ? {} : { limitKind: a.limitKind as LimitKind }),
        ...(a.amount === null ? {} : { amount: a.amount }),
        ...(a.reason === null ? {} : { reason: a.reason }),
        ...(a.operator === null ? {} : { operator: a.operator }),
      },
      { occurredAt: a.at },
    ),
  );
}

/** One usage event of `user`'s (alice's) at `at`: 10 tokens in, 2 out, on model `m`. */
export function usageEventAt(
  at: Date,
  requestId: string,
  {
    user = 'alice',
    operation,
    route,
    webSearchRequests,
  }: {
    readonly user?: string;
    readonly operation?: string;
    readonly route?: string;
    readonly webSearchRequests?: number;
  } = {},
): TokenUsageRecorded {
  return createTokenUsageRecorded(
    {
      requestId,
      partitionKey: user,
      userId: user,
      inputTokens: 10,
      outputTokens: 2,
      cachedInputTokens: 0,
      usageSource: UsageSource.Reported,
      modelRequested: 'm',
      modelServed: 'm',
      provider: 'p',
      backend: 'b',
      costDollars: 0.001,
      weightedTokenCost: 12,
      cacheHit: false,
      ...(operation === undefined ? {} : { operation }),
      ...(route === undefined ? {} : { route }),
      ...(webSearchRequests === undefined ? {} : { webSearchRequests }),
    },
    { occurredAt: at },
  );
}

/** A failed call, a streamed one (its request cut), and another user's. */
export function payloadEvents(): RequestPayloadLogged[] {
  const base = {
    partitionKey: ODD_USER,
    userId: ODD_USER,
    endpoint: GatewayEndpoint.ChatCompletions,
    modelRequested: 'gpt-4o',
    requestTruncated: false,
    responseTruncated: false,
  };
  return [
    createRequestPayloadLogged(
      {
        ...base,
        requestId: 'req-payload-1',
        stream: false,
        httpStatus: 502,
        errorCode: 'UPSTREAM_ERROR',
        startedAt: '2026-03-01T09:59:59.000Z',
        requestBody: '{"model":"gpt-4o","messages":[{"role":"user","content":"hi \'"}]}',
        requestBytes: 63,
        responseBody: '',
        responseBytes: 0,
        latencyMs: 1000,
      },
      { occurredAt: '2026-03-01T10:00:00.000Z' },
    ),
    createRequestPayloadLogged(
      {
        ...base,
        requestId: 'req-payload-2',
        modelServed: 'gpt-4o-2024-08-06',
        provider: 'openai',
        backend: 'openai-main',
        stream: true,
        httpStatus: 200,
        startedAt: '2026-03-01T10:00:00.250Z',
        requestBody: '{"model":"gpt-4o","messages":[{"role":"user","content":"ünïcödé',
        requestTruncated: true,
        requestBytes: 70_000,
        responseBody: '{"choices":[{"text":"Hello","finish":"stop"}]}',
        responseBytes: 44,
        latencyMs: 1250,
      },
      { occurredAt: '2026-03-01T10:00:01.500Z' },
    ),
    createRequestPayloadLogged(
      {
        ...base,
        partitionKey: 'alice',
        userId: 'alice',
        requestId: 'req-payload-3',
        stream: false,
        httpStatus: 200,
        startedAt: '2026-03-01T10:00:02.000Z',
        requestBody: '{}',
        requestBytes: 2,
        responseBody: '{}',
        responseBytes: 2,
        latencyMs: 1,
      },
      { occurredAt: '2026-03-01T10:00:02.001Z' },
    ),
  ];
}
