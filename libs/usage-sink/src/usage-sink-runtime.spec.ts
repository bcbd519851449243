import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  analyticsMaxSeriesPoints,
  analyticsRetentionDays,
  payloadRetentionDays,
} from './usage-sink-runtime';

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

test('payloads are kept 7 days unless told otherwise; 0 leaves them to the analytics retention', () => {
  assert.equal(payloadRetentionDays({}), 7);
  assert.equal(payloadRetentionDays({ AI_GATEWAY_PAYLOAD_RETENTION_DAYS: ' 2 ' }), 2);
  assert.equal(payloadRetentionDays({ AI_GATEWAY_PAYLOAD_RETENTION_DAYS: '0' }), undefined);
  for (const bad of ['-1', '0.5', '7d']) {
    assert.throws(
      () => payloadRetentionDays({ AI_GATEWAY_PAYLOAD_RETENTION_DAYS: bad }),
      new RegExp(`AI_GATEWAY_PAYLOAD_RETENTION_DAYS must be a whole number of days.*"${bad}"`),
    );
  }
});

test('a usage series holds at most 100000 points unless a positive whole number is set', () => {
  assert.equal(analyticsMaxSeriesPoints({}), 100_000);
  assert.equal(analyticsMaxSeriesPoints({ AI_GATEWAY_ANALYTICS_MAX_SERIES_POINTS: '' }), 100_000);
  assert.equal(analyticsMaxSeriesPoints({ AI_GATEWAY_ANALYTICS_MAX_SERIES_POINTS: ' 500 ' }), 500);
  for (const bad of ['0', '-1', '1.5', '1e5', '100k', '99999999999999999999']) {
    assert.throws(
      () => analyticsMaxSeriesPoints({ AI_GATEWAY_ANALYTICS_MAX_SERIES_POINTS: bad }),
      new RegExp(
        `AI_GATEWAY_ANALYTICS_MAX_SERIES_POINTS must be a positive whole number.*"${bad}"`,
      ),
    );
  }
});
