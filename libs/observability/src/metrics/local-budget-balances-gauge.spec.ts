// ai_gateway_budget_local_balances: the balances the embedded budget store holds, read at
// each scrape (0 in a process that keeps none, as with Redis).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry } from './metrics-registry';

test('exports the embedded store balances, read afresh at each scrape', async () => {
  const m = new MetricsRegistry({ collectDefaultMetrics: false });
  const value = async () =>
    (await m.metrics())
      .split('\n')
      .filter((line) => line.startsWith('ai_gateway_budget_local_balances '));
  assert.deepEqual(await value(), ['ai_gateway_budget_local_balances 0'], 'no store: none');
  let balances = 9000;
  m.watchLocalBudgetBalances(() => balances);
  assert.deepEqual(await value(), ['ai_gateway_budget_local_balances 9000']);
  balances = 12; // ended windows' balances dropped
  assert.deepEqual(await value(), ['ai_gateway_budget_local_balances 12']);
});
