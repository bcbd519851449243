// ai_gateway_budget_exhaustion_marks: the size of the process's exhaustion view, read at
// each scrape (0 in a process that keeps none).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry } from './metrics-registry';

test('exports the marks of the local exhaustion view, read afresh at each scrape', async () => {
  const m = new MetricsRegistry({ collectDefaultMetrics: false });
  const value = async () =>
    (await m.metrics())
      .split('\n')
      .filter((line) => line.startsWith('ai_gateway_budget_exhaustion_marks '));
  assert.deepEqual(await value(), ['ai_gateway_budget_exhaustion_marks 0'], 'no view: none');
  let marks = 1200;
  m.watchExhaustionMarks(() => marks);
  assert.deepEqual(await value(), ['ai_gateway_budget_exhaustion_marks 1200']);
  marks = 40; // the ended windows' marks swept
  assert.deepEqual(await value(), ['ai_gateway_budget_exhaustion_marks 40']);
});
