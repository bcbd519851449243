// For the BudgetAdmission specs: an admission over one parsed route, a small chat call and
// the refusal a promise must end in.
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { ExhaustionView, LocalBudgetStore } from '@aigw/budget-core';
import { DataPlaneError, type GatewayRequest } from '@aigw/contracts/data-plane';
import { BudgetAdmission, type AdmissionOptions } from './budget-admission';

/** Thirty seconds into a minute, so a per-minute window has time either side. */
export const START = Date.UTC(2026, 0, 1, 12, 0, 30);

/** A config of one route `r` of `backends` (YAML list lines) and `policy` (spec lines). */
export function configOn(backends: string, policy: string): GatewayConfig {
  const parsed = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
${backends}
${policy}
`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
  return parsed.config;
}

/**
 * BudgetAdmission on a route of `backends` (YAML list lines) and `policy` (spec lines);
 * `options` beside the fixture's own.
 */
export function admissionOn(
  backends: string,
  policy: string,
  clock = { now: START },
  options: Partial<AdmissionOptions> = {},
) {
  const config = configOn(backends, policy);
  const view = new ExhaustionView();
  const store = new LocalBudgetStore(':memory:');
  const admission = new BudgetAdmission(() => config, store, view, {
    defaultMaxOutputTokens: 100,
    holdMs: 600_000,
    now: () => clock.now,
    ...options,
  });
  return { admission, view, store, route: config.routes[0] };
}

export const ask = (userKey: string, maxTokens = 10): GatewayRequest => ({
  requestId: 'r',
  operation: 'chat',
  requestedModel: 'chat',
  stream: false,
  clientWantsStreamUsage: false,
  body: { model: 'chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: maxTokens },
  caller: { userKey },
  allowedModels: [],
  forwardHeaders: {},
});

export const refusalOf = (promise: Promise<unknown>) =>
  promise.then(
    () => assert.fail('admitted'),
    (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      return error;
    },
  );

/** The x-ratelimit-* headers of one family: `tokens` or `requests`. */
export const family = (headers: Readonly<Record<string, string>> | undefined, unit: string) =>
  Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => name.endsWith(`-${unit}`)));
