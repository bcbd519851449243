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
