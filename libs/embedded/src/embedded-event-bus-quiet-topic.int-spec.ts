// The quiet-topic rule on the all-in-one gateway's embedded event log (SQLite on disk): a
// poison event with nothing else of the subscription moving is dead-lettered after N
// failures over T, once the last event of its topic handled again succeeds (two back to
// back: one after the other, each by that rule); while the handler's store is down,
// nothing is dead-lettered however long (one event held or two), and all is handled after.
// After a restart (nothing of the topic handled since), the check is the topic's last event
// before the group's position, read from the log: a store down past T while another topic
// flows letters nothing, and a real poison event is lettered once that check succeeds.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  BudgetAdjustmentAction,
  createBudgetAdjusted,
  Topic,
  type EventSubscription,
  type EventTopic,
  type GatewayEvent,
} from '@aigw/contracts';
import { numberedUsageEvent, until } from '@aigw/testing';
import { EmbeddedEventBus, type HandlerDeadLetter } from './embedded-event-bus';
import { SqliteEventLog } from './sqlite-event-log';

const DEAD_LETTER = Topic.DeadLetter as unknown as EventTopic;
const QUIET = { quietTopicAttempts: 3, quietTopicAfterMs: 1_000 };
const dir = mkdtempSync(join(tmpdir(), 'aigw-quiet-topic-'));
const opened: { bus: EmbeddedEventBus; log: SqliteEventLog }[] = [];
// Closed here too, so a failed assertion leaves no retry timer keeping the run alive.
after(async () => {
  for (const { bus, log } of opened) {
    await bus.close().catch(() => undefined);
    try {
      log.close();
    } catch {
      // closed by its test already (a restart)
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A bus on its own log file; `letteredAt` gets the time of each letter. */
function openBus(
  name: string,
  letters: HandlerDeadLetter[],
  errors: unknown[],
  letteredAt: number[] = [],
) {
  const log = new SqliteEventLog(join(dir, `${name}.db`));
  const bus = new EmbeddedEventBus(log, {
    flushIntervalMs: 5,
    maxBatch: 100,
    retryMinMs: 20,
    retryMaxMs: 100,
    handlerAttempts: 5,
    ...QUIET,
    onError: (error) => errors.push(error),
    onDeadLettered: (letter) => {
      letters.push(letter);
      letteredAt.push(Date.now());
    },
  });
  opened.push({ bus, log });
  return { log, bus };
}

/** Handles `topics` for `group`, failing on the `poison` events; `calls` counts each one's tries. */
function poisonedSubscriber(
  group: string,
  topics: EventTopic[],
  poison: readonly GatewayEvent[],
): { subscription: EventSubscription; calls: Map<string, number> } {
  const ids = new Set(poison.map((e) => e.eventId));
  const calls = new Map<string, number>();
  const subscription: EventSubscription = {
    group,
    topics,
    handle: async (events: readonly GatewayEvent[]) => {
      for (const e of events) calls.set(e.eventId, (calls.get(e.eventId) ?? 0) + 1);
      if (events.some((e) => ids.has(e.eventId))) throw new Error('cannot apply');
    },
  };
  return { subscription, calls };
}

/** The usage sink on a store that can go down: while `store.down`, every call fails. */
function sinkWithOutage(): {
  subscription: EventSubscription;
  handled: Set<string>;
  store: { down: boolean };
} {
  const store = { down: false };
  const handled = new Set<string>();
  const subscription: EventSubscription = {
    group: 'usage-sink',
    topics: [Topic.UsageRecorded],
    handle: async (events: readonly GatewayEvent[]) => {
      if (store.down) throw new Error('connect ECONNREFUSED 127.0.0.1:8123');
      for (const e of events) handled.add(e.eventId);
    },
  };
  return { subscription, handled, store };
}

/** Waits four times T of an outage: far more failures than N, and nothing lettered. */
async function outlastFourT(
  log: SqliteEventLog,
  letters: HandlerDeadLetter[],
  errors: unknown[],
): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 4 * QUIET.quietTopicAfterMs));
  assert.ok(errors.length >= 4 * QUIET.quietTopicAttempts, `${errors.length} failures`);
  assert.deepEqual(letters, [], 'nothing dead-lettered during the outage');
  assert.equal(log.count(DEAD_LETTER), 0);
}

/** A first process on `name`'s log handles `good` and stops: what the restart finds there. */
async function handledBeforeRestart(
  name: string,
  subscription: EventSubscription,
  good: GatewayEvent,
  letters: HandlerDeadLetter[],
  errors: unknown[],
): Promise<void> {
  const first = openBus(name, letters, errors);
  await first.bus.subscribe(subscription);
  first.bus.publish(good);
  await first.bus.flush();
  assert.equal(first.log.committed(subscription.group), 1);
  await first.bus.close();
  first.log.close();
}

describe('EmbeddedEventBus: a poison event with nothing else moving', () => {
  it('is dead-lettered after N failures over T, once the last event of its topic handled again succeeds', async () => {
    const letters: HandlerDeadLetter[] = [];
    const errors: unknown[] = [];
    const { log, bus } = openBus('poison', letters, errors);
    const [good, poison] = [1, 2].map((n) => numberedUsageEvent('quiet-user', n));
    const { subscription, calls } = poisonedSubscriber('budget', [Topic.UsageRecorded], [poison]);
    await bus.subscribe(subscription);
    bus.publish(good);
    await bus.flush();
    assert.equal(log.committed('budget'), 1);

    const publishedAt = Date.now();
    bus.publish(poison);
    await bus.flush();
    await until('the quiet-topic letter', () => letters.length === 1, { deadlineMs: 30_000 });
    const waited = Date.now() - publishedAt;
    assert.ok(waited >= QUIET.quietTopicAfterMs, `lettered after ${waited} ms, not before T`);
    const [letter] = letters;
    assert.equal(letter.eventId, poison.eventId);
    assert.equal(letter.rule, 'quiet-topic');
    assert.ok(letter.attempts >= QUIET.quietTopicAttempts);
    assert.equal(
      calls.get(good.eventId),
      3,
      'the good event handled twice more, as the checks around its last try',
    );
    const [row] = log.read([DEAD_LETTER], 0, 10);
    const stored = JSON.parse(row.value) as Record<string, unknown>;
    assert.equal(stored.code, 'HANDLER.FAILED');
    assert.equal(stored.rule, 'quiet-topic');
    assert.equal((stored.event as GatewayEvent).eventId, poison.eventId);
    await until('the group commits past it', () => log.committed('budget') >= letter.seq);
    await bus.close();
  });

  it('is never dead-lettered while the store is down (every call fails), and is handled once it is back', async () => {
    const letters: HandlerDeadLetter[] = [];
    const errors: unknown[] = [];
    const { log, bus } = openBus('outage', letters, errors);
    const [good, held] = [1, 2].map((n) => numberedUsageEvent('outage-user', n));
    const { subscription, handled, store } = sinkWithOutage();
    await bus.subscribe(subscription);
    bus.publish(good);
    await bus.flush();
    assert.equal(log.committed('usage-sink'), 1);

    store.down = true;
    bus.publish(held);
    await bus.flush();
    await outlastFourT(log, letters, errors);
    assert.equal(log.committed('usage-sink'), 1, 'the held event not passed');

    store.down = false;
    await until('the held event is handled once the store is back', () =>
      handled.has(held.eventId),
    );
    await until('and committed', () => log.committed('usage-sink') === 2);
    assert.deepEqual(letters, []);
    await bus.close();
  });

  it('letters two poison events back to back at its end one after the other, each by the quiet-topic rule', async () => {
    const letters: HandlerDeadLetter[] = [];
    const errors: unknown[] = [];
    const letteredAt: number[] = [];
    const { log, bus } = openBus('poison-pair', letters, errors, letteredAt);
    const [good, first, second] = [1, 2, 3].map((n) => numberedUsageEvent('quiet-pair', n));
    const { subscription, calls } = poisonedSubscriber(
      'budget',
      [Topic.UsageRecorded],
      [first, second],
    );
    await bus.subscribe(subscription);
    bus.publish(good);
    await bus.flush();
    assert.equal(log.committed('budget'), 1);

    const publishedAt = Date.now();
    bus.publish(first);
    bus.publish(second);
    await bus.flush();
    await until('both quiet-topic letters', () => letters.length === 2, { deadlineMs: 30_000 });
    assert.deepEqual(
      letters.map((l) => [l.eventId, l.seq, l.rule]),
      [
        [first.eventId, 2, 'quiet-topic'],
        [second.eventId, 3, 'quiet-topic'],
      ],
    );
    for (const letter of letters) assert.ok(letter.attempts >= QUIET.quietTopicAttempts);
    const [firstAt, secondAt] = letteredAt;
    assert.ok(firstAt - publishedAt >= QUIET.quietTopicAfterMs, 'the first waited T');
    assert.ok(
      secondAt - firstAt >= QUIET.quietTopicAfterMs,
      `the second waited T of its own, alone at the end (${secondAt - firstAt} ms)`,
    );
    assert.equal(calls.get(good.eventId), 5, 'the good event handled again twice per letter');
    assert.deepEqual(
      log
        .read([DEAD_LETTER], 0, 10)
        .map((row) => (JSON.parse(row.value) as { event: GatewayEvent }).event.eventId),
      [first.eventId, second.eventId],
    );
    await until('the group commits past both', () => log.committed('budget') >= 3);
    await bus.close();
  });

  it('letters neither of two events back to back while the store is down, and handles both once it is back', async () => {
    const letters: HandlerDeadLetter[] = [];
    const errors: unknown[] = [];
    const { log, bus } = openBus('outage-pair', letters, errors);
    const [good, ...held] = [1, 2, 3].map((n) => numberedUsageEvent('pair-outage-user', n));
    const { subscription, handled, store } = sinkWithOutage();
    await bus.subscribe(subscription);
    bus.publish(good);
    await bus.flush();
    assert.equal(log.committed('usage-sink'), 1);

    store.down = true;
    for (const event of held) bus.publish(event);
    await bus.flush();
    await outlastFourT(log, letters, errors);
    assert.equal(log.committed('usage-sink'), 1, 'the held events not passed');

    store.down = false;
    await until('both held events are handled once the store is back', () =>
      held.every((e) => handled.has(e.eventId)),
    );
    await until('and committed', () => log.committed('usage-sink') === 3);
    assert.deepEqual(letters, []);
    await bus.close();
  });

  it("after a restart, letters nothing while one topic's store is down past T and another topic flows", async () => {
    const letters: HandlerDeadLetter[] = [];
    const errors: unknown[] = [];
    const [good, held] = [1, 2].map((n) => numberedUsageEvent('restart-outage-user', n));
    let usageStoreDown = false;
    const handled: string[] = [];
    const tried = new Map<string, number>();
    const settler: EventSubscription = {
      group: 'budget',
      topics: [Topic.UsageRecorded, Topic.BudgetAdjusted],
      handle: async (events: readonly GatewayEvent[]) => {
        for (const e of events) tried.set(e.eventId, (tried.get(e.eventId) ?? 0) + 1);
        if (usageStoreDown && events.some((e) => e.type === 'usage.recorded'))
          throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
        for (const e of events) handled.push(e.eventId);
      },
    };
    await handledBeforeRestart('restart-outage', settler, good, letters, errors);

    // The restart: nothing of the usage topic handled by this process yet.
    const { log, bus } = openBus('restart-outage', letters, errors);
    usageStoreDown = true;
    await bus.subscribe(settler);
    bus.publish(held);
    await bus.flush();
    // The other topic flows for four times T, and on until far more failures than N and three
    // checks have come: counted, not timed, as a loaded machine retries less often in 4 s.
    const adjusted: string[] = [];
    const flowUntil = Date.now() + 4 * QUIET.quietTopicAfterMs;
    const giveUpAt = Date.now() + 60_000;
    const flowedEnough = () =>
      Date.now() >= flowUntil &&
      errors.length >= 4 * QUIET.quietTopicAttempts &&
      (tried.get(good.eventId) ?? 0) >= 3;
    while (!flowedEnough() && Date.now() < giveUpAt) {
      const event = createBudgetAdjusted({
        partitionKey: 'other-user',
        userKey: 'other-user',
        action: BudgetAdjustmentAction.Reset,
      });
      adjusted.push(event.eventId);
      bus.publish(event);
      await bus.flush();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(letters, [], 'nothing dead-lettered during the outage');
    assert.equal(log.count(DEAD_LETTER), 0);
    assert.ok(errors.length >= 4 * QUIET.quietTopicAttempts, `${errors.length} failures`);
    // Waited for, not read at once: on a loaded machine the last few published may still be
    // in the bus. The usage store is still down, so a topic held behind it would never pass.
    await until('the other topic is handled meanwhile', () =>
      adjusted.every((id) => handled.includes(id)),
    );
    assert.ok(
      (tried.get(good.eventId) ?? 0) >= 3,
      `the good event read from the log was tried as the check, once per T (${tried.get(good.eventId)})`,
    );
    assert.equal(
      handled.filter((id) => id === good.eventId).length,
      1,
      'and failed with the store each time',
    );
    assert.equal(log.committed('budget'), 1, 'the held event not passed');

    usageStoreDown = false;
    await until('the held event is handled once the store is back', () =>
      handled.includes(held.eventId),
    );
    await until(
      'and committed past the other topic too',
      () => log.committed('budget') === 2 + adjusted.length,
    );
    assert.deepEqual(letters, []);
    await bus.close();
  });

  it('after a restart, letters a real poison event at the end of its topic after T, once its last event read from the log handled again succeeds', async () => {
    const letters: HandlerDeadLetter[] = [];
    const errors: unknown[] = [];
    const [good, poison] = [1, 2].map((n) => numberedUsageEvent('restart-poison-user', n));
    const { subscription: settler, calls } = poisonedSubscriber(
      'budget',
      [Topic.UsageRecorded, Topic.BudgetAdjusted],
      [poison],
    );
    await handledBeforeRestart('restart-poison', settler, good, letters, errors);

    const { log, bus } = openBus('restart-poison', letters, errors);
    await bus.subscribe(settler);
    const publishedAt = Date.now();
    bus.publish(poison); // nothing after it, on no topic
    await bus.flush();
    await until('the quiet-topic letter', () => letters.length === 1, { deadlineMs: 15_000 });
    const waited = Date.now() - publishedAt;
    assert.ok(waited >= QUIET.quietTopicAfterMs, `lettered after ${waited} ms, not before T`);
    const [letter] = letters;
    assert.deepEqual([letter.eventId, letter.seq, letter.rule], [poison.eventId, 2, 'quiet-topic']);
    assert.ok(letter.attempts >= QUIET.quietTopicAttempts);
    assert.equal(
      calls.get(good.eventId),
      3,
      'handled before the restart, then twice as the checks around its last try',
    );
    await until('the group commits past it', () => log.committed('budget') >= 2);
    await bus.close();
  });

  it('after a restart, skips an event it lettered before the restart as the check: a second poison event is lettered after T, checked by the handled event before the first', async () => {
    const letters: HandlerDeadLetter[] = [];
    const errors: unknown[] = [];
    const [good, first, second] = [1, 2, 3].map((n) =>
      numberedUsageEvent('restart-lettered-user', n),
    );
    const { subscription: settler, calls } = poisonedSubscriber(
      'budget',
      [Topic.UsageRecorded],
      [first, second],
    );
    await handledBeforeRestart('restart-lettered', settler, good, letters, errors);
    // A second process letters the first poison event and commits past it, then stops.
    const before = openBus('restart-lettered', letters, errors);
    await before.bus.subscribe(settler);
    before.bus.publish(first);
    await before.bus.flush();
    await until('the first letter', () => letters.length === 1, { deadlineMs: 15_000 });
    await until('committed past it', () => before.log.committed('budget') >= 2);
    await before.bus.close();
    before.log.close();
    const firstTries = calls.get(first.eventId) ?? 0;

    // The restart: the log's last event of the topic before the second one is the lettered one.
    const { log, bus } = openBus('restart-lettered', letters, errors);
    await bus.subscribe(settler);
    const publishedAt = Date.now();
    bus.publish(second); // nothing after it, on no topic
    await bus.flush();
    await until('the second letter', () => letters.length === 2, { deadlineMs: 15_000 });
    const waited = Date.now() - publishedAt;
    assert.ok(waited >= QUIET.quietTopicAfterMs, `lettered after ${waited} ms, not before T`);
    assert.deepEqual(
      letters.map((l) => [l.eventId, l.seq, l.rule]),
      [
        [first.eventId, 2, 'quiet-topic'],
        [second.eventId, 4, 'quiet-topic'],
      ],
    );
    assert.equal(calls.get(first.eventId), firstTries, 'the lettered event never tried as a check');
    assert.equal(calls.get(good.eventId), 5, 'the handled event, once, then twice per letter');
    await until('the group commits past it', () => log.committed('budget') >= 4);
    await bus.close();
  });
});
