import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type { GatewayAnswer, JsonObject, ServedBy, TokenUsage } from '@aigw/contracts/data-plane';

/** For the reuse specs: the usage every answer of theirs reports. */
export const REUSE_USAGE: TokenUsage = {
  inputTokens: 12,
  outputTokens: 6,
  cachedInputTokens: 0,
  source: 'reported',
};

/** For the reuse specs: reuseRoute()'s backend, which serves every answer of theirs. */
export const REUSE_SERVED: ServedBy = { backend: 'b', provider: 'openai', model: 'gpt-4o' };

/**
 * For the reuse specs: a config of route `r` with one local backend `b` serving gpt-4o;
 * `spec` adds to the route's spec (its caching, deduplication, ...).
 */
export function reuseRoute(spec: string): GatewayConfig {
  const result = parseGatewayConfig(
    `kind: AIGatewayRoute\nmetadata: {name: r}\nspec:\n  backends:\n  - {name: b, provider: local, model: gpt-4o}\n${spec}`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!result.ok) assert.fail(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

/** For the reuse specs: one chunk of a streamed chat answer. */
export const reuseChunk = (content: string, finish: string | null = null): JsonObject => ({
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: { content }, finish_reason: finish }],
});

/** For the reuse specs: the JSON chat answer `ok`. */
export const reuseJsonAnswer = (): GatewayAnswer => ({
  kind: 'json',
  status: 200,
  servedBy: REUSE_SERVED,
  usage: REUSE_USAGE,
  body: { object: 'chat.completion', choices: [{ message: { content: 'ok' } }] },
});
