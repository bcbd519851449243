import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenUsageRecorded } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { FilesAndBatches, type HeldObjectCalls } from './files-and-batches';
import type { FilesAndBatchesOptions } from './files-and-batches-options';
import { MemoryHeldObjectStore } from './held-objects';
import { backendReply as json } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';
import { oneBatchRoute } from './testing/one-batch-route';

const TTL = 30 * 24 * 3600_000;

/** One finished batch with its output. */
class Backend implements HeldObjectCalls {
  async send(_backend: unknown, _method: string, path: string) {
    if (path === '/batches/b1') {
      return json({ id: 'b1', object: 'batch', status: 'completed', output_file_id: 'out1' });
    }
    if (path === '/files/out1/content') {
      const usage = { prompt_tokens: 100, completion_tokens: 20 };
      return json(`${JSON.stringify({ response: { body: { usage } } })}\n`, 'application/jsonl');
    }
    throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object');
  }
}

/** The held record of batch b1 on the route's batch backend, owned by alice. */
const heldBatch = (createdAt: number) => heldOnBatchRoute('batch', 'b1', createdAt);

/** The files-and-batches API on oneBatchRoute() over `store`, its usage events kept in `events`. */
function batchesOver(
  store: MemoryHeldObjectStore,
  events: TokenUsageRecorded[],
  more: Partial<FilesAndBatchesOptions>,
): FilesAndBatches {
  const config = oneBatchRoute();
  return new FilesAndBatches({
    config: () => config,
    upstream: new Backend(),
    store,
    ttlMs: TTL,
    priceFactor: 0.5,
    publish: (event) => events.push(event),
    ...more,
  });
}

/** An empty in-memory store whose entries expire on `clock`. */
const storeOn = (clock: () => number) =>
  new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 }, undefined, clock);

describe('a finished batch', () => {
  it('is billed once however long its owner keeps looking at it', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const store = storeOn(clock);
    const events: TokenUsageRecorded[] = [];
    const batches = batchesOver(store, events, { now: clock });
    const record = heldBatch(now);
    await store.put(record, TTL);
    const { id } = record;
    const look = async () => batches.checkBatch((await store.get(id))!);
    assert.equal(await look(), 'billed');
    // Each look keeps the batch remembered another TTL; the billing claim was taken once.
    now += TTL - 1_000;
    assert.equal(await look(), 'finished');
    now += 2_000;
    assert.ok(await store.get(id), 'the batch is still remembered');
    assert.equal(await look(), 'finished');
    assert.equal(events.length, 1);
  });
});

describe('a finished batch billed with answers after their record', () => {
  it('answers the look that billed it only once the usage event is durable', async () => {
    const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
    const events: TokenUsageRecorded[] = [];
    let durable!: () => void;
    const batches = batchesOver(store, events, {
      untilRecorded: () => new Promise<void>((resolve) => (durable = resolve)),
    });
    const record = heldBatch(Date.now());
    await store.put(record, TTL);
    const { id } = record;
    let answered: string | undefined;
    const look = batches.checkBatch((await store.get(id))!).then((state) => (answered = state));
    for (let i = 0; i < 20 && events.length === 0; i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(events.length, 1, 'published');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(answered, undefined, 'held until the record is durable');
    durable();
    await look;
    assert.equal(answered, 'billed');
  });
});

describe('a finished batch seen by two looks at once', () => {
  it('stays marked billed when the slower look writes what it saw after the other billed it', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const store = storeOn(clock);
    const events: TokenUsageRecorded[] = [];
    // The slow look's backend answer waits until the fast look has billed the batch.
    let slowAnswer!: () => void;
    const answered = new Promise<void>((resolve) => (slowAnswer = resolve));
    let calls = 0;
    const backend = new Backend();
    const upstream: HeldObjectCalls = {
      send: async (target, method, path) => {
        if (path === '/batches/b1' && calls++ === 0) await answered;
        return backend.send(target, method, path);
      },
    };
    const batches = batchesOver(store, events, { now: clock, upstream });
    const record = heldBatch(now);
    await store.put(record, TTL);
    const { id } = record;
    // The sweeper and a client read the same unbilled record.
    const slow = batches.checkBatch((await store.get(id))!);
    assert.equal(await batches.checkBatch((await store.get(id))!), 'billed');
    slowAnswer();
    assert.equal(await slow, 'finished');
    assert.equal((await store.get(id))?.billed, true, 'the billed mark survives the slow look');
    // Looked at for longer than the billing claim lives: never billed a second time.
    const look = async () => batches.checkBatch((await store.get(id))!);
    now += TTL - 1_000;
    await look();
    now += 2_000;
    assert.equal(await look(), 'finished');
    assert.equal(events.length, 1);
  });
});

describe('a finished batch whose billing was cut off (its replica stopped while reading the output)', () => {
  it('is billed by a later look within the hour, not once the 30-day record TTL has passed', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const store = storeOn(clock);
    const events: TokenUsageRecorded[] = [];
    // The replica that stops: its read of the output never ends.
    const backend = new Backend();
    const stopping: HeldObjectCalls = {
      send: async (target, method, path) =>
        path === '/files/out1/content'
          ? new Promise<never>(() => undefined)
          : backend.send(target, method, path),
    };
    const stopped = batchesOver(store, [], { now: clock, upstream: stopping });
    const record = heldBatch(now);
    await store.put(record, TTL);
    await store.addPending(record.id, TTL);
    void stopped.checkBatch(record);
    for (let i = 0; i < 20 && !(await store.get(record.id))?.object.status; i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Another replica (or the same one restarted) looks on.
    const other = batchesOver(store, events, { now: clock });
    const look = async () => other.checkBatch((await store.get(record.id))!);
    now += 60_000;
    assert.equal(await look(), 'finished', 'a billing under way is not taken over at once');
    assert.equal(events.length, 0);
    now += 60 * 60_000;
    assert.equal(await look(), 'billed');
    assert.equal(events.length, 1);
    assert.equal(events[0].inputTokens, 100);
  });
});

describe('a billed batch whose billed mark a racing look wrote over', () => {
  it('is not billed again after the billing lease, for as long as it is remembered', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const store = storeOn(clock);
    const events: TokenUsageRecorded[] = [];
    const batches = batchesOver(store, events, { now: clock });
    const record = heldBatch(now);
    await store.put(record, TTL);
    assert.equal(await batches.checkBatch(record), 'billed');
    // A look that read the record before the mark writes what it saw back, unmarked.
    const { billed: _billed, ...unmarked } = (await store.get(record.id))!;
    await store.put(unmarked, TTL);
    now += 24 * 60 * 60_000;
    assert.equal(await batches.checkBatch((await store.get(record.id))!), 'finished');
    assert.equal(events.length, 1);
  });
});

describe('a finished batch whose output is gone at the backend, its mark written over', () => {
  it('is not read again after the billing lease, for as long as it is remembered', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const store = storeOn(clock);
    const backend = new Backend();
    const outputGone: HeldObjectCalls = {
      send: async (target, method, path) => {
        if (path === '/files/out1/content') {
          throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such file');
        }
        return backend.send(target, method, path);
      },
    };
    const batches = batchesOver(store, [], { now: clock, upstream: outputGone });
    const record = heldBatch(now);
    await store.put(record, TTL);
    assert.equal(await batches.checkBatch(record), 'output_gone');
    // A look that read the record before the mark writes what it saw back, unmarked.
    const { outputGone: _gone, ...unmarked } = (await store.get(record.id))!;
    await store.put(unmarked, TTL);
    now += 24 * 60 * 60_000;
    assert.equal(await batches.checkBatch((await store.get(record.id))!), 'finished');
  });
});

describe('a billed batch a second look comes to while the first finishes billing it', () => {
  it('is not billed again, whichever of the first look’s last steps it comes between', async () => {
    const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
    const events: TokenUsageRecorded[] = [];
    const seconds: string[] = [];
    let looking = false;
    // Once the usage is out, another replica's whole look runs after each step of the
    // first's on the store (making its claim lasting, marking, unindexing).
    const racing = new Proxy(store, {
      get(target, name, receiver) {
        const value: unknown = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const result: unknown = await value.apply(target, args);
          if (events.length > 0 && !looking) {
            looking = true;
            seconds.push(await other.checkBatch((await store.get(record.id))!));
            looking = false;
          }
          return result;
        };
      },
    });
    const batches = batchesOver(racing, events, {});
    const other = batchesOver(racing, events, {});
    const record = heldBatch(Date.now());
    await store.put(record, TTL);
    assert.equal(await batches.checkBatch(record), 'billed');
    assert.ok(seconds.length > 0, 'the second look came');
    assert.deepEqual(new Set(seconds), new Set(['finished']));
    assert.equal(events.length, 1);
  });
});
