// A route asking for a Redis cache with no address and no REDIS_URL loads (the reference
// spec writes `backend: redis` so), but is warned about at start and on reload, and
// /readyz says its cache is per-process memory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type GatewayConfig } from '@aigw/config';
import { configFromYaml } from '@aigw/testing';
import type { EventPublisher } from '@aigw/contracts';
import { Logger, MetricsRegistry } from '@aigw/observability';
import { openResponseReuse, type ReuseHost } from './reuse-runtime';

const route = (name: string, backend: string) =>
  `apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: ${name}\nspec:\n` +
  `  backends:\n  - {name: ${name}-openai, model: gpt-4o}\n  caching:\n    enabled: true\n    backend: ${backend}\n`;

function host(config: GatewayConfig, redisUrl?: string) {
  const lines: string[] = [];
  const checks: { name: string; check(): Promise<{ ready: boolean; state: string }> }[] = [];
  const reloads: ((config: GatewayConfig) => void)[] = [];
  let current = config;
  const events: EventPublisher = { publish: () => undefined, flush: async () => undefined };
  const reuseHost: ReuseHost = {
    settings: redisUrl === undefined ? {} : { redisUrl },
    config: () => current,
    events,
    metrics: new MetricsRegistry({ collectDefaultMetrics: false }),
    logger: new Logger({
      level: 'info',
      write: (line) => lines.push((JSON.parse(line) as { msg: string }).msg),
    }),
    onClose: () => undefined,
    onConfigReload: (listener) => reloads.push(listener),
    addReadinessCheck: (check) => checks.push(check),
  };
  const reload = (next: GatewayConfig) => {
    current = next;
    for (const listener of reloads) listener(next);
  };
  return { reuseHost, lines, checks, reload };
}

async function cacheState(checks: ReturnType<typeof host>['checks']) {
  const check = checks.find((c) => c.name === 'responseCache');
  assert.ok(check, 'a responseCache readiness check');
  return check.check();
}

describe('cache store kinds', () => {
  it('backend: redis without an address or REDIS_URL is warned about and shown on /readyz', async () => {
    const { reuseHost, lines, checks, reload } = host(configFromYaml(route('faq', 'redis')));
    openResponseReuse(reuseHost, {});
    const warning = lines.find((line) => line.includes('route "faq"'));
    assert.ok(warning, lines.join('\n'));
    assert.match(
      warning,
      /caching\.backend\.type is redis but neither caching\.backend\.address nor REDIS_URL/,
    );
    assert.match(warning, /this process’s memory .*not shared across replicas/);
    assert.deepEqual(await cacheState(checks), {
      ready: true,
      state: 'memory instead of redis for route faq (not shared across replicas)',
    });

    // A reload that adds another such route warns about it too.
    lines.length = 0;
    reload(configFromYaml(`${route('faq', 'redis')}---\n${route('docs', '{type: redis}')}`));
    assert.ok(
      lines.some((line) => line.includes('route "docs"')),
      lines.join('\n'),
    );
    assert.match((await cacheState(checks)).state, /route faq, docs/);
  });

  it('no warning where REDIS_URL or an address gives the Redis, or memory was asked for', async () => {
    for (const [text, redisUrl, state] of [
      [route('faq', 'redis'), 'redis://cache:6379', 'redis'],
      [route('faq', '{type: redis, address: "cache:6379"}'), undefined, 'redis'],
      [route('faq', 'memory'), undefined, 'memory'],
    ] as const) {
      const { reuseHost, lines, checks } = host(configFromYaml(text), redisUrl);
      openResponseReuse(reuseHost, {});
      assert.ok(!lines.some((line) => line.includes('REDIS_URL')), lines.join('\n'));
      assert.deepEqual(await cacheState(checks), { ready: true, state });
    }
  });
});
