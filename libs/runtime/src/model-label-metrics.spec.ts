// The models a config names keep their own series on the model labels, however many names
// clients invented on a wildcard route before them; a reload's names replace the last.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { MetricsRegistry } from '@aigw/observability';
import { configuredModelNames, keepConfiguredModelLabels } from './model-label-metrics';

function configOf(yaml: string): GatewayConfig {
  const result = parseGatewayConfig(yaml, { missingSecrets: 'warn', env: {} });
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

const NAMED = configOf(`
kind: AIGatewayRoute
metadata: {name: chat}
spec:
  backends:
  - {name: a, priority: 0, provider: openai, model: gpt-4o-2024-08-06, modelNameOverride: gpt-4o}
  - {name: b, priority: 1, provider: openai, model: gpt-4o-mini}
  - {name: any, priority: 2, provider: openai}
`);

const RELOADED = configOf(`
kind: AIGatewayRoute
metadata: {name: chat}
spec:
  backends:
  - {name: c, provider: openai, model: o3}
`);

const modelsOf = async (metrics: MetricsRegistry): Promise<string[]> =>
  (await metrics.metrics())
    .split('\n')
    .filter((line) => line.startsWith('ai_gateway_unpriced_calls_total{'))
    .map((line) => /model="([^"]*)"/.exec(line)![1])
    .sort();

test("names what clients ask for and what backends are sent, not a wildcard's", () => {
  assert.deepEqual(configuredModelNames(NAMED).sort(), [
    'gpt-4o',
    'gpt-4o-2024-08-06',
    'gpt-4o-mini',
  ]);
});

test("the config's models keep their series past the cap, and a reload's replace them", async () => {
  const metrics = new MetricsRegistry({ maxModels: 1, collectDefaultMetrics: false });
  let reload: (config: GatewayConfig) => void = () => assert.fail('no listener');
  keepConfiguredModelLabels(metrics, NAMED, (listener) => (reload = listener));
  for (const model of ['invented-1', 'invented-2', 'gpt-4o', 'gpt-4o-2024-08-06']) {
    metrics.recordUnpricedCall(model);
  }
  assert.deepEqual(await modelsOf(metrics), [
    '__other__',
    'gpt-4o',
    'gpt-4o-2024-08-06',
    'invented-1',
  ]);

  reload(RELOADED);
  metrics.recordUnpricedCall('o3');
  // No longer configured, and the cap is full: as any other name.
  metrics.recordUnpricedCall('gpt-4o-mini');
  assert.deepEqual(await modelsOf(metrics), [
    '__other__',
    'gpt-4o',
    'gpt-4o-2024-08-06',
    'invented-1',
    'o3',
  ]);
  assert.match(
    await metrics.metrics(),
    /^ai_gateway_unpriced_calls_total\{model="__other__"\} 2$/m,
  );
});
