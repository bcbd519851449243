// A handler slower than the consumer's session (10 s: a ClickHouse insert under load, its
// client allows 30 s) must keep its partitions while it works. Were the member dropped from
// its group, a second replica would take the partitions from the last commit and handle the
// same events at the same time: the usage sink's check-then-insert would then store them
// twice, and its rollups would count them twice.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { Topic } from '@aigw/contracts';
import { numberedUsageEvent } from '@aigw/testing';
import { realKafkaBuses } from '../testing/real-kafka-buses';

const { openBus } = realKafkaBuses('slow-handler', 2);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('a replica busy past its session keeps its partitions: no event is handled twice at once', async () => {
  const prefix = `it.slow.${randomUUID().slice(0, 8)}.`;
  const group = 'usage-sink';
  const first = await openBus(prefix);
  /** Event ids in the first replica's hands (handed, not yet done). */
  const inFlight = new Set<string>();
  const overlapping: string[] = [];
  let slowCalls = 0;
  await first.subscribe({
    group,
    topics: [Topic.UsageRecorded],
    handle: async (events) => {
      events.forEach((e) => inFlight.add(e.eventId));
      // The first write takes 16 s, past the 10 s session.
      if (slowCalls++ === 0) await sleep(16_000);
      events.forEach((e) => inFlight.delete(e.eventId));
    },
  });
  const events = Array.from({ length: 40 }, (_, n) => numberedUsageEvent(`u${n % 8}`, n));
  events.forEach((e) => first.publish(e));
  await first.flush();
  const deadline = Date.now() + 60_000;
  while (inFlight.size === 0 && Date.now() < deadline) await sleep(50);
  assert.ok(inFlight.size > 0, 'the first replica got a batch');

  // A second replica of the same service joins while the first is busy.
  const second = await openBus(prefix);
  const handledBySecond = new Set<string>();
  await second.subscribe({
    group,
    topics: [Topic.UsageRecorded],
    handle: async (batch) => {
      for (const event of batch) {
        if (inFlight.has(event.eventId)) overlapping.push(event.eventId);
        handledBySecond.add(event.eventId);
      }
    },
  });
  // Past the first replica's slow write, and the rebalance after it.
  await sleep(20_000);
  assert.deepEqual(overlapping, [], 'events handled by both replicas at once');
});
