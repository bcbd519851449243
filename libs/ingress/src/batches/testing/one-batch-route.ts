import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';

/**
 * For the batches specs: the route `batches` with one OpenAI backend (at an address nothing
 * answers on, the spec's calls object stands in for it) serving its model `up` as
 * `gpt-batch`. It ends in the backends list: a spec may add backends, the route's settings
 * and, after `---`, other documents.
 */
export const BATCH_ROUTE_YAML = `kind: AIGatewayRoute
metadata: {name: batches}
spec:
  backends:
  - {name: openai-batch, provider: openai, baseUrl: "http://127.0.0.1:9/v1", model: up, modelNameOverride: gpt-batch}
`;

/** The config `yaml` describes (no environment), failing the spec where it is invalid. */
export function parsedConfig(yaml: string): GatewayConfig {
  const parsed = parseGatewayConfig(yaml, { env: {} });
  assert.ok(parsed.ok, `bad config: ${JSON.stringify(parsed)}`);
  return parsed.config;
}

/** BATCH_ROUTE_YAML alone. */
export function oneBatchRoute(): GatewayConfig {
  return parsedConfig(BATCH_ROUTE_YAML);
}

/**
 * BATCH_ROUTE_YAML keying users by x-user-id, each with $0.01 a day, the model `up` priced
 * at $0.002 in and $0.008 out per 1k tokens. It ends in the route's settings.
 */
export const PRICED_BATCH_ROUTE_YAML = `${BATCH_ROUTE_YAML}  userIdentification: {header: x-user-id}
  costControl:
    maxDailyCostPerUser: 0.01
    modelPricing:
      up: {inputPer1k: 0.002, outputPer1k: 0.008}
`;

/**
 * After a route's YAML: a second route `keyed`, keying users by API key (so users are
 * identified more than one way). It ends in that route's settings.
 */
export const KEYED_ROUTE_YAML = `---
kind: AIGatewayRoute
metadata: {name: keyed}
spec:
  backends:
  - {name: keyed-local, provider: local, model: keyed-mini}
  userIdentification: {header: authorization}
`;
