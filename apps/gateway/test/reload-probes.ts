// For the reload e2e specs: wait for a running gateway to pick a change up, and read how
// many reloads it has counted.
import assert from 'node:assert/strict';
import { metricSum } from '@aigw/testing';
import type { AppProcess } from '@aigw/testing/processes';

/** Polls `probe` until it returns a value, failing with `what` after a deadline. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting until ${what}`);
}

/** ai_gateway_config_reloads_total{result} from the gateway's admin /metrics. */
export async function configReloads(
  gateway: AppProcess,
  result: 'success' | 'failure',
): Promise<number> {
  return metricSum(
    await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
    'ai_gateway_config_reloads_total',
    { result },
  );
}
