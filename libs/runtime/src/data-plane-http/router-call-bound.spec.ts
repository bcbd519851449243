// How long the ingress lets the router work on a call: every attempt the most patient
// route's failover may make, at its slowest backend's requestTimeout, with the pauses
// between them, plus a margin.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { routerCallBoundMs } from './router-call-bound';

const MARGIN_MS = 5_000;

function config(yaml: string): GatewayConfig {
  const result = parseGatewayConfig(yaml, { missingSecrets: 'warn', env: {} });
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

const backend = (name: string, model: string, timeout: string) =>
  `  - {name: ${name}, provider: openai-compatible, baseUrl: "http://127.0.0.1:9/v1", model: ${model}, requestTimeout: ${timeout}}`;

test('one attempt per backend of the chain, each at the slowest backend, by default', () => {
  const chain = config(`kind: AIGatewayRoute
metadata: {name: chain}
spec:
  backends:
${backend('a', 'm', '10s')}
${backend('b', 'm', '30s')}
`);
  assert.equal(routerCallBoundMs(chain), 2 * 30_000 + MARGIN_MS);
});

test('retries go round the chain again, with retryDelay between attempts', () => {
  const retried = config(`kind: AIGatewayRoute
metadata: {name: retried}
spec:
  backends:
${backend('a', 'm', '20s')}
  failover: {retryAttempts: 3, retryDelay: 2s}
`);
  assert.equal(routerCallBoundMs(retried), 4 * 20_000 + 3 * 2_000 + MARGIN_MS);
});

test('the most patient route of the config decides', () => {
  const two = config(`kind: AIGatewayRoute
metadata: {name: quick}
spec:
  backends:
${backend('a', 'quick', '5s')}
---
kind: AIGatewayRoute
metadata: {name: slow}
spec:
  backends:
${backend('b', 'slow', '15m')}
`);
  assert.equal(routerCallBoundMs(two), 15 * 60_000 + MARGIN_MS);
});
