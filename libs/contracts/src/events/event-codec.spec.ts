import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContractsError, ContractsErrorCode } from '../contracts.errors';
import { Topic, TOPIC_SETTINGS, ALL_TOPICS, topicConfigEntries } from '../topics';
import { LimitKind } from './event-enums';
import { EVENT_CATALOG, type GatewayEvent } from './event-catalog';
import { decodeEvent, encodeEvent, serializeEvent } from './event-codec';
import { oneOfEachEvent, usageRecorded } from './one-of-each-event-fixture';
import { type TokenUsageRecorded } from './token-usage-recorded.event';

const usage = () => usageRecorded('required');

const oneOfEach = (): GatewayEvent[] => oneOfEachEvent('required');

describe('event codec', () => {
  it('has one event class for every topic except the dead-letter topic', () => {
    const covered = new Set(oneOfEach().map((e) => encodeEvent(e).topic));
    assert.deepEqual([...covered].sort(), ALL_TOPICS.filter((t) => t !== Topic.DeadLetter).sort());
  });

  for (const event of oneOfEach()) {
    it(`round-trips ${event.type}`, () => {
      const encoded = encodeEvent(event, { validate: true });
      assert.equal(encoded.topic, EVENT_CATALOG[encoded.topic].topic);
      assert.equal(encoded.headers['aigw-event-type'], event.type);
      assert.equal(encoded.headers['aigw-event-id'], event.eventId);
      const decoded = decodeEvent(encoded.topic, encoded.value);
      assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
      assert.ok(decoded.value instanceof EVENT_CATALOG[encoded.topic].cls);
      assert.deepEqual(
        JSON.parse(JSON.stringify(decoded.value)),
        JSON.parse(JSON.stringify(event)),
      );
    });
  }

  it('serialises for a log the same topic, key, id and JSON the Kafka message carries', () => {
    for (const event of oneOfEach()) {
      const serialized = serializeEvent(event);
      const encoded = encodeEvent(event);
      assert.equal(serialized.topic, encoded.topic);
      assert.equal(serialized.key, encoded.key);
      assert.equal(serialized.eventId, encoded.headers['aigw-event-id']);
      assert.equal(serialized.json, encoded.value.toString('utf8'));
      const decoded = decodeEvent(serialized.topic, serialized.json);
      assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
    }
  });

  it('fills id and time, keys messages by the partition key', () => {
    const event = usage();
    assert.match(event.eventId, /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(event.occurredAt)));
    assert.equal(event.type, 'usage.recorded');
    assert.equal(event.version, 1);
    assert.equal(encodeEvent(event).key, 'alice');
  });

  it('keys budget state by budget key and limit so compaction keeps every limit', () => {
    const state = oneOfEach().find((e) => e.type === 'budget.state')!;
    assert.equal(encodeEvent(state).key, `alice|${LimitKind.MaxDailyCostPerUser}`);
  });

  it('types the decoded value by topic', () => {
    const decoded = decodeEvent(Topic.UsageRecorded, encodeEvent(usage()).value);
    assert.ok(decoded.ok);
    const typed: TokenUsageRecorded = decoded.value;
    assert.equal(typed.cachedInputTokens, 100);
  });

  it('reads a cache write when an event has one, and an event of an older build without it', () => {
    const old = JSON.parse(encodeEvent(usage()).value.toString()) as Record<string, unknown>;
    assert.ok(!('cacheWriteInputTokens' in old), 'an event without a write carries no field');
    const decodedOld = decodeEvent(Topic.UsageRecorded, JSON.stringify(old));
    assert.ok(decodedOld.ok, decodedOld.ok ? '' : decodedOld.error.message);
    assert.equal(decodedOld.value.cacheWriteInputTokens, undefined);

    const written = Object.assign(usage(), { cacheWriteInputTokens: 20 });
    const decoded = decodeEvent(Topic.UsageRecorded, encodeEvent(written).value);
    assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
    assert.equal(decoded.value.cacheWriteInputTokens, 20);
    assert.equal(decoded.value.version, 1);

    for (const bad of [-1, 1.5, '20']) {
      const refused = decodeEvent(
        Topic.UsageRecorded,
        JSON.stringify({ ...old, cacheWriteInputTokens: bad }),
      );
      assert.ok(!refused.ok);
      assert.deepEqual(
        refused.error.details.issues?.map((i) => i.path),
        refused.error.details.issues?.map(() => 'cacheWriteInputTokens'),
      );
    }
  });

  it('reads the image input tokens, and an event without them as none', () => {
    const old = JSON.parse(encodeEvent(usage()).value.toString()) as Record<string, unknown>;
    assert.ok(!('imageInputTokens' in old), 'an event without image input carries no field');
    const decodedOld = decodeEvent(Topic.UsageRecorded, JSON.stringify(old));
    assert.ok(decodedOld.ok, decodedOld.ok ? '' : decodedOld.error.message);
    assert.equal(decodedOld.value.imageInputTokens, undefined);

    const edited = Object.assign(usage(), { imageInputTokens: 40 });
    const decoded = decodeEvent(Topic.UsageRecorded, encodeEvent(edited).value);
    assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
    assert.equal(decoded.value.imageInputTokens, 40);

    for (const bad of [-1, 1.5, '20']) {
      const refused = decodeEvent(
        Topic.UsageRecorded,
        JSON.stringify({ ...old, imageInputTokens: bad }),
      );
      assert.ok(!refused.ok, JSON.stringify(bad));
      assert.deepEqual(
        refused.error.details.issues?.map((i) => i.path),
        ['imageInputTokens'],
      );
    }
  });

  it('reads the image output tokens, and an event without them as none', () => {
    const old = JSON.parse(encodeEvent(usage()).value.toString()) as Record<string, unknown>;
    assert.ok(!('imageOutputTokens' in old), 'an event without image output carries no field');
    const decodedOld = decodeEvent(Topic.UsageRecorded, JSON.stringify(old));
    assert.ok(decodedOld.ok, decodedOld.ok ? '' : decodedOld.error.message);
    assert.equal(decodedOld.value.imageOutputTokens, undefined);

    const made = Object.assign(usage(), { imageOutputTokens: 30 });
    const decoded = decodeEvent(Topic.UsageRecorded, encodeEvent(made).value);
    assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
    assert.equal(decoded.value.imageOutputTokens, 30);

    for (const bad of [-1, 1.5, '20']) {
      const refused = decodeEvent(
        Topic.UsageRecorded,
        JSON.stringify({ ...old, imageOutputTokens: bad }),
      );
      assert.ok(!refused.ok, JSON.stringify(bad));
      assert.deepEqual(
        refused.error.details.issues?.map((i) => i.path),
        ['imageOutputTokens'],
      );
    }
  });

  it('reads the server tool runs, and an event of an older build without them as none', () => {
    const old = JSON.parse(encodeEvent(usage()).value.toString()) as Record<string, unknown>;
    assert.ok(!('webSearchRequests' in old) && !('webFetchRequests' in old));
    const decodedOld = decodeEvent(Topic.UsageRecorded, JSON.stringify(old));
    assert.ok(decodedOld.ok, decodedOld.ok ? '' : decodedOld.error.message);
    assert.equal(decodedOld.value.webSearchRequests, undefined);
    assert.equal(decodedOld.value.webFetchRequests, undefined);
    // Both checks read the new fields: the compiled one vouches for the event, the full one
    // (an unknown field sends the event to it) keeps them as well.
    const searched = Object.assign(usage(), { webSearchRequests: 3, webFetchRequests: 1 });
    const decoded = decodeEvent(Topic.UsageRecorded, encodeEvent(searched).value);
    assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
    assert.equal(decoded.value.webSearchRequests, 3);
    assert.equal(decoded.value.webFetchRequests, 1);
    const withUnknown = { ...JSON.parse(encodeEvent(searched).value.toString()), later: 1 };
    const fully = decodeEvent(Topic.UsageRecorded, JSON.stringify(withUnknown));
    assert.ok(fully.ok, fully.ok ? '' : fully.error.message);
    assert.equal(fully.value.webSearchRequests, 3);
    assert.equal(fully.value.webFetchRequests, 1);

    for (const field of ['webSearchRequests', 'webFetchRequests']) {
      for (const bad of [-1, 1.5, '2']) {
        const refused = decodeEvent(Topic.UsageRecorded, JSON.stringify({ ...old, [field]: bad }));
        assert.ok(!refused.ok, `${field} ${JSON.stringify(bad)}`);
        assert.deepEqual(
          refused.error.details.issues?.map((i) => i.path),
          [field],
        );
      }
    }
  });

  it('reads the 1-hour part of a cache write, and an event without it as none', () => {
    const old = JSON.parse(encodeEvent(usage()).value.toString()) as Record<string, unknown>;
    assert.ok(!('cacheWrite1hInputTokens' in old), 'an event without one carries no field');
    const decodedOld = decodeEvent(Topic.UsageRecorded, JSON.stringify(old));
    assert.ok(decodedOld.ok, decodedOld.ok ? '' : decodedOld.error.message);
    assert.equal(decodedOld.value.cacheWrite1hInputTokens, undefined);

    const written = Object.assign(usage(), {
      cacheWriteInputTokens: 20,
      cacheWrite1hInputTokens: 15,
    });
    const decoded = decodeEvent(Topic.UsageRecorded, encodeEvent(written).value);
    assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
    assert.equal(decoded.value.cacheWrite1hInputTokens, 15);

    for (const bad of [-1, 1.5, '20']) {
      const refused = decodeEvent(
        Topic.UsageRecorded,
        JSON.stringify({ ...old, cacheWrite1hInputTokens: bad }),
      );
      assert.ok(!refused.ok, JSON.stringify(bad));
      assert.deepEqual(
        refused.error.details.issues?.map((i) => i.path),
        ['cacheWrite1hInputTokens'],
      );
    }
  });

  it("reads the operation an event names, an older build's event without one, and a newer one's", () => {
    const old = JSON.parse(encodeEvent(usage()).value.toString()) as Record<string, unknown>;
    assert.ok(!('operation' in old), 'the fixture is an event of an older build');
    const decodedOld = decodeEvent(Topic.UsageRecorded, JSON.stringify(old));
    assert.ok(decodedOld.ok, decodedOld.ok ? '' : decodedOld.error.message);
    assert.equal(decodedOld.value.operation, undefined);

    // 'moderations' is no operation of this build: a later build's usage is still settled.
    for (const operation of ['transcriptions', 'moderations']) {
      const named = Object.assign(usage(), { operation });
      const decoded = decodeEvent(
        Topic.UsageRecorded,
        encodeEvent(named, { validate: true }).value,
      );
      assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
      assert.equal(decoded.value.operation, operation);
    }
    for (const bad of ['', 7, 'x'.repeat(65)]) {
      const refused = decodeEvent(Topic.UsageRecorded, JSON.stringify({ ...old, operation: bad }));
      assert.ok(!refused.ok, JSON.stringify(bad));
      assert.deepEqual(
        [...new Set(refused.error.details.issues?.map((i) => i.path))],
        ['operation'],
      );
    }
  });

  it('rejects an unknown version loudly', () => {
    const body = { ...JSON.parse(encodeEvent(usage()).value.toString()), version: 2 };
    const decoded = decodeEvent(Topic.UsageRecorded, Buffer.from(JSON.stringify(body)));
    assert.ok(!decoded.ok);
    assert.ok(decoded.error instanceof ContractsError);
    assert.equal(decoded.error.code, ContractsErrorCode.UnknownVersion);
    assert.match(decoded.error.message, /version 2.*only version 1/);
  });

  it('rejects an event of the wrong type for the topic', () => {
    const decoded = decodeEvent(Topic.BudgetState, encodeEvent(usage()).value);
    assert.ok(!decoded.ok);
    assert.equal(decoded.error.code, ContractsErrorCode.TypeMismatch);
    assert.match(decoded.error.message, /"budget\.state".*"usage\.recorded"/);
  });

  it('names the invalid field', () => {
    const body = JSON.parse(encodeEvent(usage()).value.toString());
    body.inputTokens = -3;
    body.usageSource = 'guessed';
    const decoded = decodeEvent(Topic.UsageRecorded, JSON.stringify(body));
    assert.ok(!decoded.ok);
    assert.equal(decoded.error.code, ContractsErrorCode.InvalidPayload);
    const paths = decoded.error.details.issues?.map((i) => i.path);
    assert.deepEqual(paths?.sort(), ['inputTokens', 'usageSource']);
    assert.match(decoded.error.message, /inputTokens must not be less than 0/);
  });

  it('rejects missing fields', () => {
    const body = JSON.parse(encodeEvent(usage()).value.toString());
    delete body.modelServed;
    const decoded = decodeEvent(Topic.UsageRecorded, JSON.stringify(body));
    assert.ok(!decoded.ok);
    const paths = decoded.error.details.issues?.map((i) => i.path).sort();
    assert.deepEqual([...new Set(paths)], ['modelServed']);
  });

  it('reads an event a newer producer added a field to, without that field', () => {
    // A consumer not yet upgraded must still settle and record the event.
    const body = JSON.parse(encodeEvent(usage()).value.toString());
    body.surprise = true;
    const decoded = decodeEvent(Topic.UsageRecorded, JSON.stringify(body));
    assert.ok(decoded.ok);
    assert.equal('surprise' in decoded.value, false);
    assert.equal(decoded.value.modelServed, usage().modelServed);
  });

  it('does not coerce strings into numbers', () => {
    const body = JSON.parse(encodeEvent(usage()).value.toString());
    body.outputTokens = '40';
    const decoded = decodeEvent(Topic.UsageRecorded, JSON.stringify(body));
    assert.ok(!decoded.ok);
    assert.equal(decoded.error.details.issues?.[0]?.path, 'outputTokens');
  });

  it('reports malformed JSON, empty messages and unknown topics', () => {
    const bad = decodeEvent(Topic.UsageRecorded, Buffer.from('{"type":'));
    assert.ok(!bad.ok);
    assert.equal(bad.error.code, ContractsErrorCode.MalformedJson);
    const empty = decodeEvent(Topic.UsageRecorded, null);
    assert.ok(!empty.ok);
    assert.equal(empty.error.code, ContractsErrorCode.MalformedJson);
    const array = decodeEvent(Topic.UsageRecorded, '[]');
    assert.ok(!array.ok);
    assert.equal(array.error.code, ContractsErrorCode.MalformedJson);
    const topic = decodeEvent('gateway.nope.v1', '{}');
    assert.ok(!topic.ok);
    assert.equal(topic.error.code, ContractsErrorCode.UnknownTopic);
    const dlq = decodeEvent(Topic.DeadLetter, '{}');
    assert.ok(!dlq.ok);
    assert.equal(dlq.error.code, ContractsErrorCode.UnknownTopic);
  });

  it('refuses to encode an invalid event when asked to validate', () => {
    const event = usage();
    event.costDollars = Number.NaN;
    assert.throws(
      () => encodeEvent(event, { validate: true }),
      (e: unknown) => e instanceof ContractsError && e.code === ContractsErrorCode.InvalidPayload,
    );
  });
});

describe('topics', () => {
  it('versions every topic name and has settings for each', () => {
    for (const topic of ALL_TOPICS) {
      assert.match(topic, /^gateway\.[a-z.-]+\.v\d+$/);
      assert.ok(TOPIC_SETTINGS[topic].partitions > 0);
    }
  });

  it('compacts the budget state topic', () => {
    assert.equal(TOPIC_SETTINGS[Topic.BudgetState].cleanupPolicy, 'compact');
    const entries = Object.fromEntries(
      topicConfigEntries(Topic.BudgetState).map((e) => [e.name, e.value]),
    );
    assert.equal(entries['cleanup.policy'], 'compact');
    assert.equal(entries['retention.ms'], '-1');
  });
});
