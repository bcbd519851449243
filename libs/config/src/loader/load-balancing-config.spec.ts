// loadBalancing (an extension to the spec): how a route orders its backends of equal priority.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {}, sourceName: 'gw.yaml' } as const;

function routeYaml(loadBalancing: string): string {
  return `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: a, provider: openai}, {name: b, provider: openai}]
  loadBalancing: ${loadBalancing}
`;
}

function loadBalancingOf(loadBalancing: string) {
  const result = parseGatewayConfig(routeYaml(loadBalancing), options);
  assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.format()).join('\n'));
  return result.config.routes[0].loadBalancing;
}

function errorsOf(loadBalancing: string): string[] {
  return refusalsOf(routeYaml(loadBalancing), options).map((e) =>
    e.replace(/^.*?: (spec\.)/, '$1'),
  );
}

describe('loadBalancing', () => {
  it('defaults to weighted-round-robin, also for the reference spec left unchanged', () => {
    const fixture = readFileSync(
      join(__dirname, '../../test-fixtures/spec-03-priority-based-routing.route.yaml'),
      'utf8',
    );
    const result = parseGatewayConfig(fixture, options);
    assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.format()).join('\n'));
    const expected = { strategy: 'weighted-round-robin', explorationPercent: 0 };
    assert.deepEqual(result.config.routes[0].loadBalancing, expected);
    assert.deepEqual(loadBalancingOf('{}'), expected);
  });

  it('takes least-busy, and lowest-latency with a 5% exploration share by default', () => {
    assert.deepEqual(loadBalancingOf('{strategy: least-busy}'), {
      strategy: 'least-busy',
      explorationPercent: 0,
    });
    assert.deepEqual(loadBalancingOf('{strategy: lowest-latency}'), {
      strategy: 'lowest-latency',
      explorationPercent: 5,
    });
    assert.deepEqual(loadBalancingOf('{strategy: lowest-latency, explorationPercent: 12.5}'), {
      strategy: 'lowest-latency',
      explorationPercent: 12.5,
    });
    assert.equal(
      loadBalancingOf('{strategy: lowest-latency, explorationPercent: 0}')?.explorationPercent,
      0,
    );
  });

  it('refuses an unknown strategy, naming the field and the choices', () => {
    assert.deepEqual(errorsOf('{strategy: random}'), [
      'spec.loadBalancing.strategy: expected one of weighted-round-robin, least-busy, lowest-latency',
    ]);
  });

  it('refuses an exploration share outside 0-100 or not a number', () => {
    for (const bad of ['-1', '101', 'many']) {
      assert.deepEqual(
        errorsOf(`{strategy: lowest-latency, explorationPercent: ${bad}}`),
        ['spec.loadBalancing.explorationPercent: expected a percentage from 0 to 100'],
        bad,
      );
    }
  });

  it('refuses an exploration share with a strategy that does not explore', () => {
    assert.deepEqual(errorsOf('{strategy: least-busy, explorationPercent: 5}'), [
      'spec.loadBalancing.explorationPercent: applies only to strategy lowest-latency',
    ]);
    assert.deepEqual(errorsOf('{explorationPercent: 5}'), [
      'spec.loadBalancing.explorationPercent: applies only to strategy lowest-latency',
    ]);
  });

  it('refuses unknown keys and a non-mapping', () => {
    const [unknown] = errorsOf('{strategy: least-busy, bias: 2}');
    assert.match(unknown, /^spec\.loadBalancing\.bias: /);
    assert.deepEqual(errorsOf('least-busy'), [
      'spec.loadBalancing: expected a mapping {strategy, explorationPercent}',
    ]);
  });
});
