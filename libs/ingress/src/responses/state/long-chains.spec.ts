import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { CHECKPOINT_INTERVAL } from './chain-position';
import { MemoryResponseStore } from './memory-response-store';
import { ResponseState } from './response-state';
import type { ResponseStore } from './response-store';
import { encodeStored, type StoredEntry } from './stored-response';
import { storedRecord } from './test-records';

const TTL = 60_000;
const owner = () => 'alice';
const idOf = (turn: number) => `resp_turn${String(turn).padStart(4, '0')}`;

/** A memory store that also counts the ids each write names (its chain position). */
function countingStore(now?: () => number) {
  const inner = new MemoryResponseStore({ maxEntries: 100_000, maxBytes: 1e9 }, undefined, now);
  const written: { ids: number; ancestors: number; bytes: number }[] = [];
  const store: ResponseStore = {
    kind: inner.kind,
    put: (entry: StoredEntry, ttlMs: number) => {
      const ancestors = entry.ancestors?.length ?? 0;
      const ids = ancestors + (entry.lineage?.length ?? 0);
      written.push({ ids, ancestors, bytes: Buffer.byteLength(encodeStored(entry)) });
      return inner.put(entry, ttlMs);
    },
    get: (ids) => inner.get(ids),
    touch: (ids, ttlMs) => inner.touch(ids, ttlMs),
    delete: (id) => inner.delete(id),
    close: () => inner.close(),
  };
  return { store, inner, written };
}

/** Turns 0..turns-1 of one chain, each continuing the one before as the edge does. */
async function grow(state: ResponseState, turns: number, from = 0): Promise<void> {
  for (let turn = from; turn < from + turns; turn++) {
    const earlier = turn === 0 ? [] : (await state.history(owner, idOf(turn - 1))).ids;
    assert.equal(await state.save(storedRecord(idOf(turn), 'alice'), earlier), true);
  }
}

const turnIds = (count: number, from = 0) =>
  Array.from({ length: count }, (_, index) => idOf(from + index));

/** What the release before the linear form accepted as a record (its decodeStored). */
function readByPreviousRelease(entry: StoredEntry | undefined): boolean {
  const record = JSON.parse(encodeStored(entry!)) as Record<string, unknown>;
  const response = record.response as { output?: unknown } | undefined;
  return (
    typeof record.id === 'string' &&
    typeof record.owner === 'string' &&
    typeof record.model === 'string' &&
    Array.isArray(record.ancestors) &&
    Array.isArray(record.input) &&
    typeof response === 'object' &&
    Array.isArray(response.output)
  );
}

describe('a long chain of stored responses', () => {
  it('is stored in space linear in its length: each turn names at most a checkpoint interval of ids', async () => {
    const turns = 300;
    const linear = countingStore();
    await grow(new ResponseState({ store: linear.store, ttlMs: TTL }), turns);
    const ids = linear.written.map((write) => write.ids);
    assert.ok(Math.max(...ids) <= CHECKPOINT_INTERVAL, `a record names ${Math.max(...ids)} ids`);
    const total = ids.reduce((sum, count) => sum + count, 0);
    assert.ok(total <= turns * CHECKPOINT_INTERVAL, `${total} ids for ${turns} turns`);
    // Bytes too: the last turn's record is no larger than one early in the chain, beyond its
    // longer id list (within a checkpoint interval).
    const bytes = linear.written.map((write) => write.bytes);
    assert.ok(bytes[turns - 1] <= bytes[CHECKPOINT_INTERVAL] + 32 * CHECKPOINT_INTERVAL);

    // The form older releases read (still written on request) names every earlier turn:
    // n(n-1)/2 ids in all, what the linear form does away with.
    const lists = countingStore();
    const compat = new ResponseState({ store: lists.store, ttlMs: TTL, writeAncestorLists: true });
    await grow(compat, turns);
    const listed = lists.written.reduce((sum, write) => sum + write.ancestors, 0);
    assert.equal(listed, (turns * (turns - 1)) / 2);
    assert.ok(listed > 4 * total);
  });

  it('brings the whole chain back, oldest first, walking checkpoint by checkpoint', async () => {
    const { store } = countingStore();
    const state = new ResponseState({ store, ttlMs: TTL });
    const turns = 3 * CHECKPOINT_INTERVAL + 5;
    await grow(state, turns);
    const { ids, items } = await state.history(owner, idOf(turns - 1));
    assert.deepEqual(ids, turnIds(turns));
    assert.equal(items.length, 2 * turns);
    assert.equal(items[0]?.id, `in_${idOf(0)}`);
    assert.equal(items.at(-1)?.id, `msg_${idOf(turns - 1)}`);
    const last = await state.find('alice', idOf(turns - 1));
    const listed = await state.inputItems(last, owner, false);
    assert.equal(listed.length, 2 * turns - 1);
    // A chain exactly at a checkpoint, and just past one.
    for (const depth of [CHECKPOINT_INTERVAL, CHECKPOINT_INTERVAL + 1, 2 * CHECKPOINT_INTERVAL]) {
      assert.deepEqual((await state.history(owner, idOf(depth))).ids, turnIds(depth + 1));
    }
  });

  it('continues a chain an older release stored (whole ancestor lists), and crosses into it', async () => {
    const { store } = countingStore();
    const older = CHECKPOINT_INTERVAL + 7;
    // Written by the release before: every record with its whole `ancestors` list.
    for (let turn = 0; turn < older; turn++) {
      await store.put(storedRecord(idOf(turn), 'alice', { ancestors: turnIds(turn) }), TTL);
    }
    const state = new ResponseState({ store, ttlMs: TTL });
    await grow(state, 2 * CHECKPOINT_INTERVAL, older);
    const last = older + 2 * CHECKPOINT_INTERVAL - 1;
    assert.deepEqual((await state.history(owner, idOf(last))).ids, turnIds(last + 1));
    assert.equal(
      (await state.inputItems(await state.find('alice', idOf(last)), owner, false)).length,
      2 * last + 1,
    );
  });

  it('writes, when asked, records the release before reads, with the whole list it expects', async () => {
    const compat = countingStore();
    const state = new ResponseState({ store: compat.store, ttlMs: TTL, writeAncestorLists: true });
    await grow(state, CHECKPOINT_INTERVAL + 3);
    const [record] = await compat.inner.get([idOf(CHECKPOINT_INTERVAL + 2)]);
    assert.equal(readByPreviousRelease(record), true);
    assert.deepEqual(record?.ancestors, turnIds(CHECKPOINT_INTERVAL + 2));
    // Without: the older release reads it as absent (a 404, or previous_response_not_found).
    const linear = countingStore();
    await grow(new ResponseState({ store: linear.store, ttlMs: TTL }), 3);
    const [unread] = await linear.inner.get([idOf(2)]);
    assert.equal(readByPreviousRelease(unread), false);
  });

  it("keeps a deleted turn's place: its chain is not continued, and lists every other turn", async () => {
    const { store, inner } = countingStore();
    const state = new ResponseState({ store, ttlMs: TTL });
    const turns = 2 * CHECKPOINT_INTERVAL + 3;
    await grow(state, turns);
    for (const deleted of [CHECKPOINT_INTERVAL, CHECKPOINT_INTERVAL + 5]) {
      await state.remove(await state.find('alice', idOf(deleted)));
      await assert.rejects(state.find('alice', idOf(deleted)), /not found/);
      await assert.rejects(
        state.lookup(idOf(deleted), owner),
        (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 404,
      );
    }
    // The checkpoint left its place and nothing of what was said, nor whose it was.
    const [marker] = await inner.get([idOf(CHECKPOINT_INTERVAL)]);
    assert.deepEqual(Object.keys(marker!).sort(), ['deleted', 'depth', 'id', 'lineage']);
    await assert.rejects(
      state.history(owner, idOf(turns - 1)),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.toOpenAiBody().error.code === 'previous_response_not_found' &&
        error.message.includes(idOf(CHECKPOINT_INTERVAL)),
    );
    const listed = await state.inputItems(await state.find('alice', idOf(turns - 1)), owner, false);
    const gone = new Set([
      `in_${idOf(CHECKPOINT_INTERVAL)}`,
      `in_${idOf(CHECKPOINT_INTERVAL + 5)}`,
    ]);
    const expected = turnIds(turns - 1)
      .flatMap((id) => [`in_${id}`, `msg_${id}`])
      .filter((id) => !gone.has(id) && !gone.has(id.replace(/^msg_/, 'in_')));
    assert.deepEqual(
      listed.map((item) => item.id),
      [...expected, `in_${idOf(turns - 1)}`],
    );
  });

  it('keeps a chain whole as long as its newest turn lives, not only each turn its own TTL', async () => {
    let now = 0;
    const { store } = countingStore(() => now);
    const state = new ResponseState({ store, ttlMs: 1_000 });
    await state.save(storedRecord(idOf(0), 'alice'));
    now = 600;
    await state.save(storedRecord(idOf(1), 'alice'), [idOf(0)]);
    now = 1_500; // the first turn's own TTL is past; the second's is not
    assert.deepEqual((await state.history(owner, idOf(1))).ids, turnIds(2));
    now = 1_601; // the newest turn expired: the chain with it
    await assert.rejects(state.history(owner, idOf(1)), /not found/);
    assert.deepEqual(await store.get([idOf(0)]), [undefined]);
  });

  it('keeps the answer stored when refreshing its earlier turns fails, and says so', async () => {
    const { store } = countingStore();
    const events: string[] = [];
    const errors: string[] = [];
    const failing: ResponseStore = {
      ...store,
      touch: () => Promise.reject(new Error('connection lost')),
    };
    const state = new ResponseState({
      store: failing,
      ttlMs: TTL,
      onEvent: (event) => events.push(event),
      onError: (what) => errors.push(what),
    });
    await grow(state, 2);
    assert.deepEqual(events, ['stored', 'hit', 'stored', 'chain_touch_failed']);
    assert.deepEqual(errors, ["keeping a chain's earlier responses"]);
    assert.deepEqual((await state.history(owner, idOf(1))).ids, turnIds(2));
  });
});
