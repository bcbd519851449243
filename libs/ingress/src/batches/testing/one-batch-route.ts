import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';

/**
 * For the batches specs: a config of one OpenAI backend (at an address nothing answers on,
 * the spec's calls object stands in for it) serving its model `up` as `gpt-batch`.
 */
export function oneBatchRoute(): GatewayConfig {
  const parsed = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: batches}
spec:
  backends:
  - {name: openai-batch, provider: openai, baseUrl: "http://127.0.0.1:9/v1", model: up, modelNameOverride: gpt-batch}
`,
    { env: {} },
  );
  assert.ok(parsed.ok);
  return parsed.config;
}
