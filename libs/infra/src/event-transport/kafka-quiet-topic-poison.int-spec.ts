// The quiet-topic rule against the real broker of the run: a poison event with nothing else
// of its topic moving is dead-lettered after N failures over T, once the last event of its
// topic handled again succeeds (two back to back: one after the other, each by that rule);
// while the handler's store is down on the same quiet topic, nothing is dead-lettered
// however long it lasts (one event held or two), and all are handled once it is back.
// After a restart (nothing of the topic handled since), the check is the partition's last
// event before the group's committed offset, read from Kafka: a store down past T while
// another topic flows letters nothing, and a real poison event is lettered once it succeeds.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  BudgetAdjustmentAction,
  createBudgetAdjusted,
  Topic,
  type EventSubscription,
  type GatewayEvent,
} from '@aigw/contracts';
import { numberedUsageEvent, until } from '@aigw/testing';
import { deadLettersOnceThere, readDeadLetters, realKafkaBuses } from '../testing/real-kafka-buses';
import { DEAD_LETTER_HEADERS } from './kafka-event-bus';

const real = realKafkaBuses('quiet-topic-poison', 1);
const QUIET = { quietTopicAttempts: 3, quietTopicAfterMs: 2_000 };

describe('KafkaEventBus: a poison event on a quiet topic', () => {
  it('is dead-lettered after N failures over T, once the last event of its topic handled again succeeds', async () => {
    const prefix = `it.quiet-poison.${randomUUID().slice(0, 8)}.`;
    const lettered: { group: string; topic: string; rule: string }[] = [];
    const bus = await real.openBus(
      prefix,
      { handlerDeadLettered: (labels) => lettered.push(labels) },
      QUIET,
    );
    const topic = `${prefix}${Topic.UsageRecorded}`;
    const [good, poison] = [1, 2].map((n) => numberedUsageEvent('quiet-user', n));
    const calls = new Map<string, number>();
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events: readonly GatewayEvent[]) => {
        for (const e of events) calls.set(e.eventId, (calls.get(e.eventId) ?? 0) + 1);
        if (events.some((e) => e.eventId === poison.eventId)) throw new Error('cannot apply');
      },
    });
    bus.publish(good);
    await bus.flush();
    await until('the good event is handled', () => calls.get(good.eventId) === 1);
    await until(
      'and committed',
      async () => (await real.committedOffset(`${prefix}budget`, topic)) === 1,
    );

    const publishedAt = Date.now();
    bus.publish(poison); // nothing after it, on no partition
    await bus.flush();
    const letters = await deadLettersOnceThere(real.kafka, prefix, 1, 'the quiet-topic letter');
    const waited = Date.now() - publishedAt;
    assert.ok(waited >= QUIET.quietTopicAfterMs, `lettered after ${waited} ms, not before T`);
    assert.equal(letters.length, 1);
    const [letter] = letters;
    assert.equal(JSON.parse(letter.value).eventId, poison.eventId);
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.code], 'HANDLER.FAILED');
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.rule], 'quiet-topic');
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.offset], '1');
    assert.match(letter.headers[DEAD_LETTER_HEADERS.reason], /cannot apply/);
    assert.ok(Number(letter.headers[DEAD_LETTER_HEADERS.attempts]) >= QUIET.quietTopicAttempts);
    assert.ok((calls.get(poison.eventId) ?? 0) >= QUIET.quietTopicAttempts);
    assert.equal(
      calls.get(good.eventId),
      3,
      'the good event handled twice more, as the checks around its last try',
    );
    assert.deepEqual(lettered, [{ group: 'budget', topic, rule: 'quiet-topic' }], 'counted once');
    await until('the group commits past it', async () => {
      return (await real.committedOffset(`${prefix}budget`, topic)) === 2;
    });
  });

  it('is never dead-lettered while the store is down (every call fails), and is handled once it is back', async () => {
    const prefix = `it.quiet-outage.${randomUUID().slice(0, 8)}.`;
    let retried = 0;
    const bus = await real.openBus(prefix, { handlerRetried: () => void retried++ }, QUIET);
    const topic = `${prefix}${Topic.UsageRecorded}`;
    const [good, held] = [1, 2].map((n) => numberedUsageEvent('outage-user', n));
    let storeDown = false;
    const handled = new Set<string>();
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events: readonly GatewayEvent[]) => {
        if (storeDown)
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        for (const e of events) handled.add(e.eventId);
      },
    });
    bus.publish(good);
    await bus.flush();
    await until('the good event is committed', async () => {
      return (await real.committedOffset(`${prefix}budget`, topic)) === 1;
    });

    storeDown = true;
    bus.publish(held);
    await bus.flush();
    const { letters, stop } = await readDeadLetters(real.kafka, prefix);
    try {
      // Three times T, and many more failures than N.
      await new Promise((resolve) => setTimeout(resolve, 3 * QUIET.quietTopicAfterMs));
      assert.ok(retried >= 3 * QUIET.quietTopicAttempts, `${retried} retries`);
      assert.equal(letters.length, 0, 'nothing dead-lettered during the outage');
      assert.equal(
        await real.committedOffset(`${prefix}budget`, topic),
        1,
        'the held event not passed',
      );

      storeDown = false;
      await until('the held event is handled once the store is back', () =>
        handled.has(held.eventId),
      );
      await until(
        'and committed',
        async () => (await real.committedOffset(`${prefix}budget`, topic)) === 2,
      );
      assert.equal(letters.length, 0, 'still nothing dead-lettered');
    } finally {
      await stop();
    }
  });

  it('letters two poison events back to back at the end of the topic one after the other, each by the quiet-topic rule', async () => {
    const prefix = `it.quiet-pair.${randomUUID().slice(0, 8)}.`;
    const lettered: { topic: string; rule: string; at: number }[] = [];
    const bus = await real.openBus(
      prefix,
      {
        handlerDeadLettered: ({ topic, rule }) => lettered.push({ topic, rule, at: Date.now() }),
      },
      QUIET,
    );
    const topic = `${prefix}${Topic.UsageRecorded}`;
    const [good, first, second] = [1, 2, 3].map((n) => numberedUsageEvent('quiet-pair', n));
    const poison = new Set([first.eventId, second.eventId]);
    const calls = new Map<string, number>();
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events: readonly GatewayEvent[]) => {
        for (const e of events) calls.set(e.eventId, (calls.get(e.eventId) ?? 0) + 1);
        if (events.some((e) => poison.has(e.eventId))) throw new Error('cannot apply');
      },
    });
    bus.publish(good);
    await bus.flush();
    await until(
      'the good event is committed',
      async () => (await real.committedOffset(`${prefix}budget`, topic)) === 1,
    );

    const publishedAt = Date.now();
    bus.publish(first);
    bus.publish(second); // nothing after them, on no partition
    await bus.flush();
    const letters = await deadLettersOnceThere(real.kafka, prefix, 2, 'both quiet-topic letters');
    assert.equal(letters.length, 2);
    assert.deepEqual(
      letters.map((l) => [
        (JSON.parse(l.value) as GatewayEvent).eventId,
        l.headers[DEAD_LETTER_HEADERS.offset],
      ]),
      [
        [first.eventId, '1'],
        [second.eventId, '2'],
      ],
    );
    for (const letter of letters) {
      assert.equal(letter.headers[DEAD_LETTER_HEADERS.rule], 'quiet-topic');
      assert.ok(Number(letter.headers[DEAD_LETTER_HEADERS.attempts]) >= QUIET.quietTopicAttempts);
    }
    assert.deepEqual(
      lettered.map(({ topic, rule }) => ({ topic, rule })),
      [
        { topic, rule: 'quiet-topic' },
        { topic, rule: 'quiet-topic' },
      ],
      'each counted once',
    );
    const [firstAt, secondAt] = lettered.map((l) => l.at);
    assert.ok(firstAt - publishedAt >= QUIET.quietTopicAfterMs, 'the first waited T');
    assert.ok(
      secondAt - firstAt >= QUIET.quietTopicAfterMs,
      `the second waited T of its own, alone at the end (${secondAt - firstAt} ms)`,
    );
    assert.equal(calls.get(good.eventId), 5, 'the good event handled again twice per letter');
    await until('the group commits past both', async () => {
      return (await real.committedOffset(`${prefix}budget`, topic)) === 3;
    });
  });

  it('letters neither of two events back to back while the store is down, and handles both once it is back', async () => {
    const prefix = `it.quiet-pair-outage.${randomUUID().slice(0, 8)}.`;
    let retried = 0;
    const lettered: unknown[] = [];
    const bus = await real.openBus(
      prefix,
      {
        handlerRetried: () => void retried++,
        handlerDeadLettered: (labels) => void lettered.push(labels),
      },
      QUIET,
    );
    const topic = `${prefix}${Topic.UsageRecorded}`;
    const [good, ...held] = [1, 2, 3].map((n) => numberedUsageEvent('pair-outage-user', n));
    let storeDown = false;
    const handled = new Set<string>();
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events: readonly GatewayEvent[]) => {
        if (storeDown)
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        for (const e of events) handled.add(e.eventId);
      },
    });
    bus.publish(good);
    await bus.flush();
    await until('the good event is committed', async () => {
      return (await real.committedOffset(`${prefix}budget`, topic)) === 1;
    });

    storeDown = true;
    for (const event of held) bus.publish(event);
    await bus.flush();
    const { letters, stop } = await readDeadLetters(real.kafka, prefix);
    try {
      // Three times T, and many more failures than N.
      await new Promise((resolve) => setTimeout(resolve, 3 * QUIET.quietTopicAfterMs));
      assert.ok(retried >= 3 * QUIET.quietTopicAttempts, `${retried} retries`);
      assert.equal(letters.length, 0, 'nothing dead-lettered during the outage');
      assert.deepEqual(lettered, []);
      assert.equal(
        await real.committedOffset(`${prefix}budget`, topic),
        1,
        'the held events not passed',
      );

      storeDown = false;
      await until('both held events are handled once the store is back', () =>
        held.every((e) => handled.has(e.eventId)),
      );
      await until(
        'and committed',
        async () => (await real.committedOffset(`${prefix}budget`, topic)) === 3,
      );
      assert.equal(letters.length, 0, 'still nothing dead-lettered');
    } finally {
      await stop();
    }
  });

  it("after a restart, letters nothing while one topic's store is down past T and another topic flows", async () => {
    const prefix = `it.quiet-restart-outage.${randomUUID().slice(0, 8)}.`;
    const lettered: unknown[] = [];
    const observer = { handlerDeadLettered: (labels: unknown) => void lettered.push(labels) };
    const topic = `${prefix}${Topic.UsageRecorded}`;
    const [good, held] = [1, 2].map((n) => numberedUsageEvent('restart-outage-user', n));
    let usageStoreDown = false;
    const tried = new Map<string, number>();
    const handled = new Set<string>();
    const settler: EventSubscription = {
      group: 'budget',
      topics: [Topic.UsageRecorded, Topic.BudgetAdjusted],
      handle: async (events: readonly GatewayEvent[]) => {
        for (const e of events) tried.set(e.eventId, (tried.get(e.eventId) ?? 0) + 1);
        if (usageStoreDown && events.some((e) => e.type === 'usage.recorded'))
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        for (const e of events) handled.add(e.eventId);
      },
    };
    const first = await real.openBus(prefix, observer, QUIET);
    await first.subscribe(settler);
    first.publish(good);
    await first.flush();
    await until('the good event is committed', async () => {
      return (await real.committedOffset(`${prefix}budget`, topic)) === 1;
    });
    await first.close();

    // The restart: nothing of the usage topic handled by this process yet.
    usageStoreDown = true;
    const bus = await real.openBus(prefix, observer, QUIET);
    await bus.subscribe(settler);
    bus.publish(held);
    await bus.flush();
    const { letters, stop } = await readDeadLetters(real.kafka, prefix);
    try {
      // The other topic flows for three times T, and on until the held event was tried far more
      // than N times and the good one checked: counted, not timed, as a loaded machine retries
      // less often in 3 T.
      const adjusted: string[] = [];
      const flowUntil = Date.now() + 3 * QUIET.quietTopicAfterMs;
      const giveUpAt = Date.now() + 60_000;
      const flowedEnough = () =>
        Date.now() >= flowUntil &&
        (tried.get(held.eventId) ?? 0) >= 3 * QUIET.quietTopicAttempts &&
        (tried.get(good.eventId) ?? 0) >= 2;
      while (!flowedEnough() && Date.now() < giveUpAt) {
        const event = createBudgetAdjusted({
          partitionKey: 'other-user',
          userKey: 'other-user',
          action: BudgetAdjustmentAction.Reset,
        });
        adjusted.push(event.eventId);
        bus.publish(event);
        await bus.flush();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await until('the other topic is handled meanwhile', () =>
        adjusted.every((id) => handled.has(id)),
      );
      assert.equal(letters.length, 0, 'nothing dead-lettered during the outage');
      assert.deepEqual(lettered, []);
      assert.ok((tried.get(held.eventId) ?? 0) >= 3 * QUIET.quietTopicAttempts);
      assert.ok(
        (tried.get(good.eventId) ?? 0) >= 2,
        `the good event read from Kafka was tried as the check (${tried.get(good.eventId)})`,
      );
      assert.equal(
        await real.committedOffset(`${prefix}budget`, topic),
        1,
        'the held event not passed',
      );

      usageStoreDown = false;
      await until('the held event is handled once the store is back', () =>
        handled.has(held.eventId),
      );
      await until(
        'and committed',
        async () => (await real.committedOffset(`${prefix}budget`, topic)) === 2,
      );
      assert.equal(letters.length, 0, 'still nothing dead-lettered');
    } finally {
      await stop();
    }
  });

  it('after a restart, letters a real poison event at the end of its topic after T, once its last event read from Kafka handled again succeeds', async () => {
    const prefix = `it.quiet-restart-poison.${randomUUID().slice(0, 8)}.`;
    const lettered: { group: string; topic: string; rule: string }[] = [];
    const observer = {
      handlerDeadLettered: (labels: { group: string; topic: string; rule: string }) =>
        void lettered.push(labels),
    };
    const topic = `${prefix}${Topic.UsageRecorded}`;
    const [good, poison] = [1, 2].map((n) => numberedUsageEvent('restart-poison-user', n));
    const calls = new Map<string, number>();
    const settler: EventSubscription = {
      group: 'budget',
      topics: [Topic.UsageRecorded, Topic.BudgetAdjusted],
      handle: async (events: readonly GatewayEvent[]) => {
        for (const e of events) calls.set(e.eventId, (calls.get(e.eventId) ?? 0) + 1);
        if (events.some((e) => e.eventId === poison.eventId)) throw new Error('cannot apply');
      },
    };
    const first = await real.openBus(prefix, observer, QUIET);
    await first.subscribe(settler);
    first.publish(good);
    await first.flush();
    await until('the good event is committed', async () => {
      return (await real.committedOffset(`${prefix}budget`, topic)) === 1;
    });
    await first.close();

    const bus = await real.openBus(prefix, observer, QUIET);
    await bus.subscribe(settler);
    const publishedAt = Date.now();
    bus.publish(poison); // nothing after it, on no topic
    await bus.flush();
    const letters = await deadLettersOnceThere(real.kafka, prefix, 1, 'the quiet-topic letter');
    const waited = Date.now() - publishedAt;
    assert.ok(waited >= QUIET.quietTopicAfterMs, `lettered after ${waited} ms, not before T`);
    assert.equal(letters.length, 1);
    const [letter] = letters;
    assert.equal(JSON.parse(letter.value).eventId, poison.eventId);
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.rule], 'quiet-topic');
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.offset], '1');
    assert.equal(
      calls.get(good.eventId),
      3,
      'handled before the restart, then twice as the checks around its last try',
    );
    assert.deepEqual(lettered, [{ group: 'budget', topic, rule: 'quiet-topic' }]);
    await until('the group commits past it', async () => {
      return (await real.committedOffset(`${prefix}budget`, topic)) === 2;
    });
  });

  it('after a restart, skips an event it lettered before the restart as the check: a second poison event is lettered after T, checked by the handled event before the first', async () => {
    const prefix = `it.quiet-restart-lettered.${randomUUID().slice(0, 8)}.`;
    const lettered: { group: string; topic: string; rule: string }[] = [];
    const observer = {
      handlerDeadLettered: (labels: { group: string; topic: string; rule: string }) =>
        void lettered.push(labels),
    };
    const topic = `${prefix}${Topic.UsageRecorded}`;
    const [good, first, second] = [1, 2, 3].map((n) =>
      numberedUsageEvent('restart-lettered-user', n),
    );
    const poison = new Set([first.eventId, second.eventId]);
    const calls = new Map<string, number>();
    const settler: EventSubscription = {
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events: readonly GatewayEvent[]) => {
        for (const e of events) calls.set(e.eventId, (calls.get(e.eventId) ?? 0) + 1);
        if (events.some((e) => poison.has(e.eventId))) throw new Error('cannot apply');
      },
    };
    const committed = () => real.committedOffset(`${prefix}budget`, topic);
    const handling = await real.openBus(prefix, observer, QUIET);
    await handling.subscribe(settler);
    handling.publish(good);
    await handling.flush();
    await until('the good event is committed', async () => (await committed()) === 1);
    await handling.close();

    // A second process letters the first poison event (checked by the good one) and stops.
    const lettering = await real.openBus(prefix, observer, QUIET);
    await lettering.subscribe(settler);
    lettering.publish(first);
    await lettering.flush();
    await until('the first letter', () => lettered.length === 1);
    await until('committed past it', async () => (await committed()) === 2);
    await lettering.close();
    const firstTries = calls.get(first.eventId) ?? 0;

    // The restart: the partition's last event before the second one is the lettered one.
    const bus = await real.openBus(prefix, observer, QUIET);
    await bus.subscribe(settler);
    const publishedAt = Date.now();
    bus.publish(second); // nothing after it, on no partition
    await bus.flush();
    await until('the second letter', () => lettered.length === 2);
    const waited = Date.now() - publishedAt;
    assert.ok(waited >= QUIET.quietTopicAfterMs, `lettered after ${waited} ms, not before T`);
    const letters = await deadLettersOnceThere(real.kafka, prefix, 2, 'both letters');
    assert.deepEqual(
      letters.map((l) => [
        (JSON.parse(l.value) as GatewayEvent).eventId,
        l.headers[DEAD_LETTER_HEADERS.offset],
        l.headers[DEAD_LETTER_HEADERS.rule],
      ]),
      [
        [first.eventId, '1', 'quiet-topic'],
        [second.eventId, '2', 'quiet-topic'],
      ],
    );
    assert.equal(calls.get(first.eventId), firstTries, 'the lettered event never tried as a check');
    assert.equal(calls.get(good.eventId), 5, 'the handled event, once, then twice per letter');
    await until('the group commits past it', async () => (await committed()) === 3);
  });
});
