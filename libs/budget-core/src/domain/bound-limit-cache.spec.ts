import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type RouteConfig } from '@aigw/config';
import { bindLimit, userLimits, type BoundLimit } from './budget-limits';
import { BoundLimitCache } from './bound-limit-cache';

function route(): RouteConfig {
  const parsed = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: openai, model: m}]
  tokenBudget: {perUser: {limit: 1000, period: 1d}, perMinute: {limit: 100}}
`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!parsed.ok) throw new Error('config');
  return parsed.config.routes[0];
}

const MINUTE = 60_000;
const start = Date.UTC(2026, 0, 1, 12, 0);

describe('BoundLimitCache', () => {
  const r = route();
  let binds = 0;
  const bind = (userKey: string) => (at: number) => {
    binds++;
    return userLimits({ route: r, userKey }).map((limit) => bindLimit(limit, at));
  };
  const keys = (limits: readonly BoundLimit[]) => limits.map((l) => l.key);

  it('binds once per caller while every window stays the same', () => {
    const cache = new BoundLimitCache<BoundLimit>();
    binds = 0;
    const first = cache.get(r, 'u1', undefined, start, bind('u1'));
    assert.equal(cache.get(r, 'u1', undefined, start + MINUTE - 1, bind('u1')), first);
    assert.equal(binds, 1);
    assert.notDeepEqual(keys(cache.get(r, 'u2', undefined, start, bind('u2'))), keys(first));
    assert.equal(binds, 2);
  });

  it('binds again when the shortest window ends, or for a time before it began', () => {
    const cache = new BoundLimitCache<BoundLimit>();
    const first = cache.get(r, 'u1', undefined, start, bind('u1'));
    const next = cache.get(r, 'u1', undefined, start + MINUTE, bind('u1'));
    assert.deepEqual(keys(next), keys(bindLimitsAt(start + MINUTE)));
    assert.notDeepEqual(keys(next), keys(first));
    assert.deepEqual(keys(cache.get(r, 'u1', undefined, start, bind('u1'))), keys(first));
  });

  it('binds again for another tier object or another route object', () => {
    const cache = new BoundLimitCache<BoundLimit>();
    binds = 0;
    cache.get(r, 'u1', undefined, start, bind('u1'));
    cache.get(r, 'u1', {}, start, bind('u1'));
    cache.get(route(), 'u1', undefined, start, bind('u1'));
    assert.equal(binds, 3);
  });

  function bindLimitsAt(at: number): BoundLimit[] {
    return userLimits({ route: r, userKey: 'u1' }).map((limit) => bindLimit(limit, at));
  }
});
