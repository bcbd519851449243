import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyticsRetentionDays } from './usage-sink-runtime';

test('analytics retention is unlimited unless a positive number of days is set', () => {
  assert.equal(analyticsRetentionDays({}), undefined);
  assert.equal(analyticsRetentionDays({ AI_GATEWAY_ANALYTICS_RETENTION_DAYS: '' }), undefined);
  assert.equal(analyticsRetentionDays({ AI_GATEWAY_ANALYTICS_RETENTION_DAYS: '0' }), undefined);
  assert.equal(analyticsRetentionDays({ AI_GATEWAY_ANALYTICS_RETENTION_DAYS: ' 90 ' }), 90);
  for (const bad of ['-1', '1.5', '90d', 'forever']) {
    assert.throws(
      () => analyticsRetentionDays({ AI_GATEWAY_ANALYTICS_RETENTION_DAYS: bad }),
      new RegExp(`AI_GATEWAY_ANALYTICS_RETENTION_DAYS must be a whole number of days.*"${bad}"`),
    );
  }
});
