// KafkaEventBus against the real broker of the run: round trip with per-key order across
// partitions, a failing handler retried without loss, an ephemeral view of the compacted
// budget-state topic, and dead-lettering. Every test uses its own topic prefix and groups.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigResourceTypes, Partitioners } from 'kafkajs';
import {
  BudgetState,
  BudgetUnit,
  createBudgetStateChanged,
  createRequestPayloadLogged,
  encodeEvent,
  GatewayEndpoint,
  LimitKind,
  Topic,
  type BudgetStateChanged,
  type GatewayEvent,
  type TokenUsageRecorded,
} from '@aigw/contracts';
import { numberedUsageEvent } from '@aigw/testing';
import { readDeadLetters, realKafkaBuses } from '../testing/real-kafka-buses';
import { DEAD_LETTER_HEADERS } from './kafka-event-bus';

const real = realKafkaBuses('event-bus', 4);
const { openBus } = real;

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function budgetState(user: string, kind: LimitKind, remaining: number): BudgetStateChanged {
  return createBudgetStateChanged({
    partitionKey: user,
    requestId: null,
    budgetKey: user,
    limitKind: kind,
    windowId: '2025-06-01',
    state: remaining > 0 ? BudgetState.Remaining : BudgetState.Exhausted,
    remaining,
    limit: 1000,
    unit: BudgetUnit.Tokens,
    resetAt: '2025-06-02T00:00:00.000Z',
  });
}

const prefixFor = (name: string): string => `it.${name}.${randomUUID().slice(0, 8)}.`;

describe('KafkaEventBus on a real broker', () => {
  it('round-trips events and keeps each key in publish order across partitions', async () => {
    const prefix = prefixFor('order');
    const bus = await openBus(prefix);
    const byUser = new Map<string, number[]>();
    let received = 0;
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events) => {
        for (const event of events as TokenUsageRecorded[]) {
          byUser.set(event.userId, [...(byUser.get(event.userId) ?? []), event.inputTokens]);
          received++;
        }
      },
    });
    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    for (let n = 0; n < 600; n++) bus.publish(numberedUsageEvent(users[n % users.length], n));
    await bus.flush();
    await until(() => received >= 600, 'every event');
    assert.equal(received, 600);
    for (const user of users) {
      const expected = Array.from({ length: 50 }, (_, k) => k * users.length + users.indexOf(user));
      assert.deepEqual(byUser.get(user), expected, `${user} in publish order`);
    }

    const admin = real.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(`${prefix}${Topic.UsageRecorded}`);
      const used = offsets.filter((p) => Number(p.high) > 0).length;
      assert.ok(used > 1, `keys spread over ${used} partitions`);
    } finally {
      await admin.disconnect();
    }
  });

  it('splits a batch the broker refuses as too large, so one user’s large payloads and later events all arrive', async () => {
    const prefix = prefixFor('too-large');
    const bus = await openBus(prefix);
    // At least once: a request refused for one partition may have written another's.
    const received = new Set<string>();
    await bus.subscribe({
      group: 'payloads',
      topics: [Topic.RequestPayload, Topic.UsageRecorded],
      handle: async (events) => {
        for (const event of events) received.add(event.eventId);
      },
    });
    // Each about 800 KB on the wire (quotes escaped), all on one partition (one user's):
    // together far over the topic's 2 MiB max.message.bytes, which counts a whole batch.
    const body = '"'.repeat(200_000);
    const payloads = Array.from({ length: 8 }, (_, i) =>
      createRequestPayloadLogged({
        requestId: `req-large-${i}`,
        partitionKey: 'heavy-user',
        userId: 'heavy-user',
        endpoint: GatewayEndpoint.ChatCompletions,
        modelRequested: 'gpt-4o',
        stream: false,
        httpStatus: 200,
        startedAt: new Date().toISOString(),
        requestBody: body,
        requestTruncated: false,
        requestBytes: body.length,
        responseBody: body,
        responseTruncated: false,
        responseBytes: body.length,
        latencyMs: 1,
      }),
    );
    const later = numberedUsageEvent('heavy-user', 1);
    for (const event of [...payloads, later]) bus.publish(event);
    await bus.flush();
    await until(() => received.size >= payloads.length + 1, 'every event');
    assert.deepEqual([...received].sort(), [...payloads, later].map((e) => e.eventId).sort());
    assert.equal(bus.spooledCount, 0);
    assert.equal(bus.status().refused, 0);
  });

  it('hands a batch whose handler failed to the handler again; nothing is skipped', async () => {
    const prefix = prefixFor('retry');
    const bus = await openBus(prefix);
    const group = 'settler';
    const calls: string[][] = [];
    const applied = new Set<string>();
    await bus.subscribe({
      group,
      topics: [Topic.UsageRecorded],
      handle: async (events) => {
        calls.push(events.map((e) => e.eventId));
        if (calls.length === 1) throw new Error('store unavailable');
        for (const event of events) applied.add(event.eventId);
      },
    });
    const events = Array.from({ length: 200 }, (_, n) => numberedUsageEvent(`u${n % 3}`, n));
    events.forEach((e) => bus.publish(e));
    await bus.flush();
    await until(() => applied.size === events.length, 'every event applied');
    assert.deepEqual(calls[1], calls[0], 'the failed batch came back as it was');
    assert.deepEqual(new Set(events.map((e) => e.eventId)), applied);

    // Offsets are committed only for what the handler took: all of it, in the end.
    const admin = real.kafka.admin();
    await admin.connect();
    try {
      const topic = `${prefix}${Topic.UsageRecorded}`;
      const ends = await admin.fetchTopicOffsets(topic);
      const end = ends.reduce((sum, p) => sum + Number(p.high), 0);
      await until(async () => {
        // The bus namespaces group ids with its prefix, as it does topics.
        const [committed] = await admin.fetchOffsets({
          groupId: `${prefix}${group}`,
          topics: [topic],
        });
        return committed.partitions.reduce((s, p) => s + Math.max(Number(p.offset), 0), 0) === end;
      }, 'the commits');
    } finally {
      await admin.disconnect();
    }
  });

  it('an ephemeral view reads the compacted budget-state topic and holds the latest state per key', async () => {
    const prefix = prefixFor('view');
    const bus = await openBus(prefix);
    const kinds = [LimitKind.TokenBudgetPerUser, LimitKind.UserTotalTokensPerDay];
    const latest = new Map<string, number>();
    for (let round = 3; round >= 0; round--) {
      for (let u = 0; u < 5; u++) {
        for (const kind of kinds) {
          const state = budgetState(`user-${u}`, kind, round * 100 + u);
          bus.publish(state);
          latest.set(`user-${u}|${kind}`, state.remaining);
        }
      }
    }
    await bus.flush();
    // flush() may leave events in the spool on a slow broker: the views below must find
    // them all in Kafka.
    await until(() => bus.status().spooled === 0, 'the spool drained');

    const openView = async (replica: string): Promise<Map<string, number>> => {
      const view = new Map<string, number>();
      await bus.subscribe({
        group: `ingress-${replica}`,
        topics: [Topic.BudgetState],
        ephemeral: true,
        handle: async (events) => {
          for (const e of events as BudgetStateChanged[]) {
            view.set(`${e.budgetKey}|${e.limitKind}`, e.remaining);
          }
        },
      });
      return view;
    };
    const first = await openView('a');
    // subscribe() of a view resolves once it has read what the topic held at the call.
    assert.deepEqual(first, latest);
    const second = await openView('b');
    assert.deepEqual(second, latest, 'a second replica builds the same view');

    const recovered = budgetState('user-0', LimitKind.TokenBudgetPerUser, 999);
    bus.publish(recovered);
    await bus.flush();
    await until(
      () => first.get(`user-0|${LimitKind.TokenBudgetPerUser}`) === 999,
      'a new state reaching the view',
    );

    const admin = real.kafka.admin();
    await admin.connect();
    try {
      const topic = `${prefix}${Topic.BudgetState}`;
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] },
        ],
      });
      assert.equal(configs.resources[0].configEntries[0].configValue, 'compact');
      const { groups } = await admin.listGroups();
      const views = groups.filter((g) => g.groupId.startsWith(`${prefix}ingress-`));
      assert.equal(views.length, 2, 'each view is its own group');
      for (const { groupId } of views) {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        assert.ok(
          offsets.partitions.every((p) => p.offset === '-1'),
          'a view commits nothing',
        );
      }
    } finally {
      await admin.disconnect();
    }
  });

  it('sends a message it cannot decode to the dead-letter topic with the reason, and goes on', async () => {
    const prefix = prefixFor('dlq');
    const rejected: { topic: string; code: string }[] = [];
    const bus = await openBus(prefix, { deadLettered: (labels) => rejected.push(labels) });
    const topic = `${prefix}${Topic.UsageRecorded}`;
    const good = [numberedUsageEvent('dl', 1), numberedUsageEvent('dl', 2)];
    const future = { ...encodeEvent(numberedUsageEvent('dl', 3)) };
    const futureValue = Buffer.from(
      JSON.stringify({ ...(JSON.parse(future.value.toString()) as object), version: 2 }),
    );
    const raw = real.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await raw.connect();
    await raw.send({
      topic,
      messages: [
        { key: 'dl', value: encodeEvent(good[0]).value },
        { key: 'dl', value: 'not json at all', headers: { origin: 'test' } },
        { key: 'dl', value: futureValue },
        { key: 'dl', value: encodeEvent(good[1]).value },
      ],
    });
    await raw.disconnect();

    const handled: GatewayEvent[] = [];
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events) => void handled.push(...events),
    });
    await until(() => handled.length === 2, 'the good events');
    assert.deepEqual(
      handled.map((e) => e.eventId),
      good.map((e) => e.eventId),
    );

    const { letters, stop } = await readDeadLetters(real.kafka, prefix);
    try {
      await until(() => letters.length >= 2, 'two dead letters');
    } finally {
      await stop();
    }
    const [malformed, unknownVersion] = letters;
    assert.equal(malformed.value, 'not json at all', 'the raw bytes are kept');
    assert.equal(malformed.headers.origin, 'test', 'with the original headers');
    assert.equal(malformed.headers[DEAD_LETTER_HEADERS.code], 'CONTRACTS.MALFORMED_JSON');
    assert.equal(malformed.headers[DEAD_LETTER_HEADERS.topic], topic);
    assert.equal(malformed.headers[DEAD_LETTER_HEADERS.group], 'budget');
    assert.match(malformed.headers[DEAD_LETTER_HEADERS.reason], /not JSON/);
    assert.equal(unknownVersion.headers[DEAD_LETTER_HEADERS.code], 'CONTRACTS.UNKNOWN_VERSION');
    assert.match(unknownVersion.headers[DEAD_LETTER_HEADERS.reason], /version 2/);
    assert.deepEqual(
      rejected.map((r) => r.code),
      ['CONTRACTS.MALFORMED_JSON', 'CONTRACTS.UNKNOWN_VERSION'],
    );
  });
});
