import type { ClickHouseClient } from '@clickhouse/client';
import type { ReadinessCheck } from '@aigw/runtime';

/**
 * ClickHouse on /readyz: reported (`checks`, `failing`, ai_gateway_dependency_reachable),
 * never gating. Every replica shares it, and readiness only steers traffic to the analytics
 * API: failing it took every usage-sink pod out of its Service at once and stalled
 * rollouts, while the Kafka consumer is unaffected by readiness. Meanwhile no record is
 * lost: a write that fails leaves its delivery uncommitted and the bus retries it with
 * backoff (nothing is dead-lettered while every write fails) until ClickHouse is back.
 */
export function clickhouseReadiness(client: Pick<ClickHouseClient, 'ping'>): ReadinessCheck {
  return {
    name: 'clickhouse',
    scope: 'shared',
    check: async () => {
      const ping = await client.ping();
      return { ready: ping.success, state: ping.success ? 'reachable' : 'unreachable' };
    },
  };
}
