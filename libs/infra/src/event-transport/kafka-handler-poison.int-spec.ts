// A handler that always fails on one event, against the real broker of the run: the event
// goes to the dead-letter topic with the handler's error, the events around it are
// handled, and the group's committed offset moves past it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Topic } from '@aigw/contracts';
import { numberedUsageEvent, until } from '@aigw/testing';
import { deadLettersOnceThere, realKafkaBuses } from '../testing/real-kafka-buses';
import { DEAD_LETTER_HEADERS } from './kafka-event-bus';
import { handlerFailingOn } from '../testing/poison-handler';

const real = realKafkaBuses('handler-poison', 1);

describe('KafkaEventBus with a handler that keeps failing on one event', () => {
  it('dead-letters it with the error, handles the others, and commits past it', async () => {
    const prefix = `it.handler-poison.${randomUUID().slice(0, 8)}.`;
    const handlerDeadLettered: { group: string; topic: string; rule: string }[] = [];
    const bus = await real.openBus(prefix, {
      handlerDeadLettered: (labels) => handlerDeadLettered.push(labels),
    });
    const topic = `${prefix}${Topic.UsageRecorded}`;
    const [first, poison, third] = [1, 2, 3].map((n) => numberedUsageEvent('poison-user', n));
    for (const event of [first, poison, third]) bus.publish(event);
    await bus.flush();

    const handled = new Set<string>();
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: handlerFailingOn(
        poison.eventId,
        'budget store rejected it; Bearer sk-live-abcdefghij',
        handled,
      ),
    });
    await until('the events around the poison one are handled', () => handled.size === 2);
    await until(
      'the group commits past it',
      async () => (await real.committedOffset(`${prefix}budget`, topic)) === 3,
    );

    const letters = await deadLettersOnceThere(real.kafka, prefix, 1, 'the dead letter');
    assert.equal(letters.length, 1);
    const [letter] = letters;
    assert.equal(JSON.parse(letter.value).eventId, poison.eventId, 'the event as it was');
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.code], 'HANDLER.FAILED');
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.topic], topic);
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.offset], '1');
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.group], 'budget');
    assert.equal(letter.headers[DEAD_LETTER_HEADERS.attempts], '5', 'the default attempts');
    assert.match(letter.headers[DEAD_LETTER_HEADERS.reason], /budget store rejected it/);
    assert.doesNotMatch(letter.headers[DEAD_LETTER_HEADERS.reason], /sk-live/);
    assert.deepEqual(handlerDeadLettered, [{ group: 'budget', topic, rule: 'strikes' }]);

    // The partition goes on: a later event is handled.
    const later = numberedUsageEvent('poison-user', 4);
    bus.publish(later);
    await bus.flush();
    await until('the later event is handled', () => handled.has(later.eventId));
    await until(
      'and committed',
      async () => (await real.committedOffset(`${prefix}budget`, topic)) === 4,
    );
  });

  it('fetched alone, it waits (never dead-lettered) until events behind it show the store works', async () => {
    const prefix = `it.handler-poison-alone.${randomUUID().slice(0, 8)}.`;
    let retried = 0;
    const bus = await real.openBus(prefix, { handlerRetried: () => void retried++ });
    const topic = `${prefix}${Topic.UsageRecorded}`;
    const [poison, later] = [1, 2].map((n) => numberedUsageEvent('lone-user', n));
    bus.publish(poison);
    await bus.flush();

    const handled = new Set<string>();
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: handlerFailingOn(poison.eventId, 'cannot apply', handled),
    });
    await until('several failed retries', () => retried >= 6);
    assert.equal(
      await real.committedOffset(`${prefix}budget`, topic),
      0,
      'nothing committed alone',
    );

    bus.publish(later);
    await bus.flush();
    await until('the later event is handled', () => handled.has(later.eventId));
    await until(
      'the group commits past both',
      async () => (await real.committedOffset(`${prefix}budget`, topic)) === 2,
    );
    const letters = await deadLettersOnceThere(real.kafka, prefix, 1, 'the dead letter');
    assert.equal(letters.length, 1);
    assert.equal(JSON.parse(letters[0].value).eventId, poison.eventId);
    assert.equal(letters[0].headers[DEAD_LETTER_HEADERS.offset], '0');
  });
});
