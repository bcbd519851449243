// A held file's or batch's owner key (what looks, lists and deletes compare) and the user id
// its bill names are kept apart: where users are identified more than one way the owner key
// is qualified (`header:x-user-id:alice`) and the bill still names `alice`, with the budget
// key of the batch's route (recordBudgetKey), never qualified twice. Records stored before
// owners were qualified (owner: the bare id, no userId) still decode and bill as they did.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { batchUsageEvent } from './batch-settlement';
import { heldOwnerOf, MemoryHeldObjectStore, recordUserId, type HeldRecord } from './held-objects';
import { heldOnBatchRoute } from './testing/held-record';
import { BATCH_ROUTE_YAML, oneBatchRoute, parsedConfig } from './testing/one-batch-route';
import { oneRequestUsage } from './testing/one-request-usage';

/** The batch route keys users by x-user-id, another by x-other-id: two identifications. */
const config = parsedConfig(`${BATCH_ROUTE_YAML}  userIdentification: {header: x-user-id}
---
kind: AIGatewayRoute
metadata: {name: other}
spec:
  backends:
  - {name: other-local, provider: local, model: other-mini}
  userIdentification: {header: x-other-id}
`);
const ALICE = 'header:x-user-id:alice';
const usage = oneRequestUsage();

/** Alice's batch as this build keeps it where her owner key is qualified. */
const qualifiedBatch = (): HeldRecord => ({
  ...heldOnBatchRoute('batch', 'b1', 0),
  ...heldOwnerOf({ userKey: 'alice', budgetKey: ALICE }),
});

describe('a held record owner', () => {
  it('is the owner key, with the user id kept apart only where they differ', () => {
    assert.deepEqual(heldOwnerOf({ userKey: 'alice' }), { owner: 'alice' });
    assert.deepEqual(heldOwnerOf({ userKey: 'alice', budgetKey: ALICE, tier: 'pro' }), {
      owner: ALICE,
      userId: 'alice',
    });
    assert.equal(recordUserId(qualifiedBatch()), 'alice');
    // A record stored before owners were qualified: its owner is the user id.
    const older = JSON.parse(JSON.stringify(heldOnBatchRoute('batch', 'b1', 0))) as HeldRecord;
    assert.equal(older.userId, undefined);
    assert.equal(recordUserId(older), 'alice');
  });

  it("bills a qualified owner's batch to the user id and its budget key, qualified once", () => {
    const { event } = batchUsageEvent(config, qualifiedBatch(), usage, 0.5);
    assert.equal(event.userId, 'alice');
    assert.equal(event.budgetKey, ALICE);
    assert.equal(event.partitionKey, ALICE);
    // An older record of the same batch bills the same.
    const older = batchUsageEvent(config, heldOnBatchRoute('batch', 'b1', 0), usage, 0.5).event;
    assert.equal(older.userId, 'alice');
    assert.equal(older.budgetKey, ALICE);
    // Users identified one way: owner and user id are one, as they always were.
    const single = batchUsageEvent(oneBatchRoute(), heldOnBatchRoute('batch', 'b1', 0), usage, 0.5);
    assert.equal(single.event.userId, 'alice');
    assert.equal(single.event.budgetKey, undefined);
  });

  it('lists records under the owner key: one id named two ways is two owners', async () => {
    const store = new MemoryHeldObjectStore({ maxEntries: 10, maxBytes: 1_000_000 });
    const mine = qualifiedBatch();
    const theirs: HeldRecord = {
      ...heldOnBatchRoute('batch', 'b2', 1),
      ...heldOwnerOf({ userKey: 'alice', budgetKey: 'header:x-other-id:alice' }),
    };
    await store.put(mine, 60_000);
    await store.put(theirs, 60_000);
    assert.deepEqual(
      (await store.list(ALICE, 'batch', 10)).map((record) => record.id),
      [mine.id],
    );
    assert.deepEqual(
      (await store.list('header:x-other-id:alice', 'batch', 10)).map((record) => record.id),
      [theirs.id],
    );
    // The bare id owns neither (records stored under it before stay unreachable).
    assert.deepEqual(await store.list('alice', 'batch', 10), []);
  });
});
