import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidSettingError } from '@aigw/config';
import { DEFAULT_LATENCY_HALF_LIFE_MS } from './backend-load';
import { latencyHalfLifeMs } from './latency-half-life';

const NAME = 'AI_GATEWAY_LATENCY_HALF_LIFE_SECONDS';

describe('AI_GATEWAY_LATENCY_HALF_LIFE_SECONDS', () => {
  it('defaults to 5 minutes, unset or empty', () => {
    assert.equal(DEFAULT_LATENCY_HALF_LIFE_MS, 300_000);
    assert.equal(latencyHalfLifeMs({}), 300_000);
    assert.equal(latencyHalfLifeMs({ [NAME]: '' }), 300_000);
  });

  it('is read in seconds', () => {
    assert.equal(latencyHalfLifeMs({ [NAME]: '60' }), 60_000);
  });

  it('refuses anything but a whole number of seconds > 0, naming the variable', () => {
    for (const bad of ['0', '-1', '0.5', '5m', 'soon']) {
      assert.throws(
        () => latencyHalfLifeMs({ [NAME]: bad }),
        new InvalidSettingError(`${NAME} must be a positive whole number, got "${bad}"`),
        bad,
      );
    }
  });
});
