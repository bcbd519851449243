// ai_gateway_backend_missing_key: the backends a process skips because their key was
// missing at load, read from the configuration in force at each scrape.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGatewayConfig, type GatewayConfig, type MissingSecretPolicy } from '@aigw/config';
import { MetricsRegistry } from '@aigw/observability';
import { backendsMissingKey, meterBackendsMissingKey } from './backend-key-metrics';

const YAML = `
kind: AIGatewayRoute
metadata: {name: chat}
spec:
  backends:
  - {name: keyed, priority: 0, provider: openai, model: gpt-4, auth: {apiKeyRef: {name: present}}}
  - {name: keyless, priority: 1, provider: openai, model: gpt-4, auth: {apiKeyRef: {name: absent}}}
  - {name: open, priority: 2, provider: openai, model: gpt-4}
---
kind: AIGatewayRoute
metadata: {name: other}
spec:
  backends:
  - {name: keyless, priority: 0, provider: openai, model: gpt-4o, auth: {apiKeyRef: {name: absent}}}
`;

function configWith(
  env: Record<string, string>,
  missingSecrets: MissingSecretPolicy,
): GatewayConfig {
  const result = parseGatewayConfig(YAML, { missingSecrets, env });
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

const PRESENT = { AI_GATEWAY_SECRET_PRESENT_APIKEY: 'sk-test-present' };

const missingKeyLines = async (metrics: MetricsRegistry): Promise<string[]> =>
  (await metrics.metrics())
    .split('\n')
    .filter((line) => line.startsWith('ai_gateway_backend_missing_key{'));

test('names each backend skipped for a missing key once, whatever its routes', () => {
  assert.deepEqual(backendsMissingKey(configWith(PRESENT, 'warn')), ['keyless']);
  // A process that holds no keys skips nothing: the provider-adapter holds them.
  assert.deepEqual(backendsMissingKey(configWith({}, 'not-needed')), []);
});

test('the gauge follows the configuration in force: 1 per skipped backend, gone once its key is there', async () => {
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  let config = configWith(PRESENT, 'warn');
  meterBackendsMissingKey(metrics, () => config);
  assert.deepEqual(await missingKeyLines(metrics), [
    'ai_gateway_backend_missing_key{backend="keyless"} 1',
  ]);
  config = configWith({ ...PRESENT, AI_GATEWAY_SECRET_ABSENT_APIKEY: 'sk-test-absent' }, 'warn');
  assert.deepEqual(await missingKeyLines(metrics), []);
});

test('also names the keyless backends an edit refused only for its keys adds, while it waits', async () => {
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  const before = parseGatewayConfig(
    'kind: AIGatewayRoute\nmetadata: {name: chat}\nspec:\n  backends:\n  - {name: keyed, provider: openai, model: gpt-4, auth: {apiKeyRef: {name: present}}}\n',
    { missingSecrets: 'warn', env: PRESENT },
  );
  assert.ok(before.ok);
  let waiting: GatewayConfig | undefined = configWith(PRESENT, 'warn');
  meterBackendsMissingKey(
    metrics,
    () => before.config,
    () => waiting,
  );
  assert.deepEqual(await missingKeyLines(metrics), [
    'ai_gateway_backend_missing_key{backend="keyless"} 1',
  ]);
  waiting = undefined;
  assert.deepEqual(await missingKeyLines(metrics), []);
});

test("leaves out a waiting edit's keyless backend the config in force has: it runs on its old key meanwhile", async () => {
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  const inForce = parseGatewayConfig(YAML.replaceAll('{name: absent}', '{name: present}'), {
    missingSecrets: 'warn',
    env: PRESENT,
  });
  assert.ok(inForce.ok);
  meterBackendsMissingKey(
    metrics,
    () => inForce.config,
    () => configWith(PRESENT, 'warn'),
  );
  assert.deepEqual(await missingKeyLines(metrics), []);
});

test("names a waiting edit's keyless backend the config in force has under another provider: it is not called meanwhile", async () => {
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  // The edit moves `keyless` from vLLM to OpenAI under a secret not yet there; the router,
  // which took it, calls it as OpenAI, which the provider-adapter refuses.
  const inForce = parseGatewayConfig(
    YAML.replaceAll(
      'provider: openai, model: gpt-4o, auth: {apiKeyRef: {name: absent}}',
      'provider: vllm, baseUrl: "http://vllm.test/v1", model: gpt-4o',
    ).replaceAll(
      'provider: openai, model: gpt-4, auth: {apiKeyRef: {name: absent}}',
      'provider: vllm, baseUrl: "http://vllm.test/v1", model: gpt-4',
    ),
    { missingSecrets: 'warn', env: PRESENT },
  );
  assert.ok(inForce.ok);
  meterBackendsMissingKey(
    metrics,
    () => inForce.config,
    () => configWith(PRESENT, 'warn'),
  );
  assert.deepEqual(await missingKeyLines(metrics), [
    'ai_gateway_backend_missing_key{backend="keyless"} 1',
  ]);
});
