// AI_GATEWAY_EVENT_HANDLER_QUIET_AFTER_SECONDS reaches the buses the runtime opens, not only
// its parsing: the embedded bus letters a lone poison event on a quiet topic by it (and logs
// the rule), and a bad value stops the start on the Kafka path too, before Kafka is asked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Topic, type GatewayEvent } from '@aigw/contracts';
import { numberedUsageEvent, until } from '@aigw/testing';
import { StartupError } from './listen';
import { ServiceRuntime } from './service-runtime';
import type { Env } from './service-settings';
import { logLines } from './testing/log-lines';
import { ONE_BACKEND_CONFIG } from './testing/one-backend-config';

const dir = mkdtempSync(join(tmpdir(), 'aigw-quiet-topic-'));
// The WAL checkpoint worker closes its own connection in its own time: retried.
after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
const configPath = join(dir, 'gateway.yaml');
writeFileSync(configPath, ONE_BACKEND_CONFIG);

const GROUP = 'quiet-probe';

function gatewayEnv(extra: Env): Env {
  return {
    AI_GATEWAY_CONFIG: configPath,
    AI_GATEWAY_DATA_DIR: mkdtempSync(join(dir, 'data-')),
    AI_GATEWAY_LOG_LEVEL: 'error',
    AI_GATEWAY_EVENT_HANDLER_ATTEMPTS: '2',
    ...extra,
  };
}

/**
 * A gateway whose handler took one event, then fails on the next, alone on its topic with
 * nothing else published: the handler's calls on the poison event, and the metric's count.
 */
async function quietPoison(env: Env, waitFor: (poisonCalls: number, lettered: number) => boolean) {
  const runtime = await ServiceRuntime.open(env, { app: 'gateway', missingSecrets: 'not-needed' });
  try {
    const [good, poison] = [1, 2].map((n) => numberedUsageEvent('quinn', n));
    let poisonCalls = 0;
    await runtime.events.subscribe({
      group: GROUP,
      topics: [Topic.UsageRecorded],
      handle: async (events: readonly GatewayEvent[]) => {
        if (events.some((e) => e.eventId === poison.eventId)) {
          poisonCalls++;
          throw new Error('cannot apply this one');
        }
      },
    });
    runtime.events.publish(good);
    await runtime.events.flush();
    runtime.events.publish(poison);
    await runtime.events.flush();
    const lettered = async () => {
      const text = await runtime.metrics.metrics();
      const line = text
        .split('\n')
        .find((l) =>
          l.startsWith(
            `ai_gateway_event_handler_dead_lettered_total{group="${GROUP}",topic="${Topic.UsageRecorded}",rule="quiet-topic"}`,
          ),
        );
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    await until('the expected handler calls', async () => waitFor(poisonCalls, await lettered()), {
      deadlineMs: 10_000,
    });
    return { poisonCalls, lettered: await lettered(), poisonId: poison.eventId };
  } finally {
    await runtime.close();
  }
}

test('with AI_GATEWAY_EVENT_HANDLER_QUIET_AFTER_SECONDS=0 the embedded bus letters a lone poison event on a quiet topic by the quiet-topic rule, and logs the rule', async () => {
  const { result, lines } = await logLines(() =>
    quietPoison(gatewayEnv({ AI_GATEWAY_EVENT_HANDLER_QUIET_AFTER_SECONDS: '0' }), (_, n) => n > 0),
  );
  assert.equal(result.lettered, 1);
  const letters = lines.filter(
    (l) => (l as { eventId?: string }).eventId === result.poisonId,
  ) as Record<string, unknown>[];
  assert.equal(letters.length, 1, JSON.stringify(lines));
  assert.equal(letters[0].rule, 'quiet-topic');
  assert.equal(letters[0].group, GROUP);
  assert.equal(
    letters[0].attempts,
    3,
    'AI_GATEWAY_EVENT_HANDLER_ATTEMPTS (2) failures alone, then its last try between the checks',
  );
  assert.match(String(letters[0].msg), /quiet topic.*\(rule quiet-topic\)/);
});

test('unset, the 10-minute wait holds it: retried alone, never lettered', async () => {
  const { result } = await logLines(() => quietPoison(gatewayEnv({}), (calls) => calls >= 4));
  assert.ok(result.poisonCalls >= 4);
  assert.equal(result.lettered, 0);
});

test('a bad value stops the start on the embedded and the Kafka path, naming the setting', async () => {
  const bad = { AI_GATEWAY_EVENT_HANDLER_QUIET_AFTER_SECONDS: '10m' };
  const expected = (error: unknown) =>
    error instanceof StartupError &&
    /AI_GATEWAY_EVENT_HANDLER_QUIET_AFTER_SECONDS must be a whole number of seconds .*got "10m"/.test(
      error.message,
    );
  await assert.rejects(
    ServiceRuntime.open(gatewayEnv(bad), { app: 'gateway', missingSecrets: 'not-needed' }),
    expected,
  );
  // Nothing listens on port 1: the check must come before Kafka is asked.
  await assert.rejects(
    ServiceRuntime.open(gatewayEnv({ ...bad, KAFKA_BROKERS: '127.0.0.1:1' }), {
      app: 'budget',
      missingSecrets: 'not-needed',
    }),
    expected,
  );
});
