// ClickHouse answering reads but refusing inserts (a read-only user or replica, a revoked
// INSERT grant): a write of events it already holds must not pass for a working store.
// The buses take a known event handled again as proof that the store works before they
// dead-letter one that keeps failing (PoisonIsolation): passed, the failing event went to
// the dead letters while the store refused every event alike.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import {
  BudgetAdjustmentAction,
  createBudgetAdjusted,
  type BudgetAdjusted,
  type GatewayEvent,
} from '@aigw/contracts';
import { EmbeddedEventBus, SqliteEventLog, type HandlerDeadLetter } from '@aigw/embedded';
import { createClickHouseClient, migrate, sqlIdentifier } from '@aigw/infra';
import { startClickHouse, until, type RealService } from '@aigw/testing';
import { UsageSinkConsumer } from '../usage-sink.consumer';
import { ClickHouseUsageWriter } from './clickhouse-usage.writer';

let server: RealService;
let admin: ClickHouseClient;
let database: string;
/** The sink's client, and one on the same database that ClickHouse holds read-only. */
let writable: ClickHouseClient;
let readOnly: ClickHouseClient;
/**
 * How ClickHouse refuses inserts: not at all, read-only (a real one: `readOnly`), or as
 * a table past its parts limit refuses inserts with rows ("too many parts", as a full disk
 * does), which only the insert itself tells: the error as 18.16 and current servers word it.
 */
type Refusal = 'none' | 'read-only' | 'too-many-parts';
let refusing: Refusal = 'none';
const TOO_MANY_PARTS =
  'Code: 252. DB::Exception: Too many parts (300). Merges are processing significantly slower than inserts. (TOO_MANY_PARTS)';
/** What the writer under test talks to: `writable`, its inserts refused as `refusing` says. */
const client = {
  query: (params: Parameters<ClickHouseClient['query']>[0]) => writable.query(params),
  insert: async (params: Parameters<ClickHouseClient['insert']>[0]) => {
    if (refusing === 'too-many-parts') throw new Error(TOO_MANY_PARTS);
    return (refusing === 'read-only' ? readOnly : writable).insert(params);
  },
  command: (params: Parameters<ClickHouseClient['command']>[0]) =>
    (refusing === 'read-only' ? readOnly : writable).command(params),
} as unknown as ClickHouseClient;

before(async () => {
  server = await startClickHouse();
  database = sqlIdentifier(`it_refused_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  admin = createClickHouseClient({ url: server.url });
  await admin.command({ query: `CREATE DATABASE ${database}` });
  writable = createClickHouseClient({ url: server.url, database });
  await migrate(writable);
  readOnly = createClient({
    url: server.url,
    database,
    clickhouse_settings: { readonly: '1' },
    compression: { request: false, response: false },
  });
});

after(async () => {
  await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await Promise.allSettled([writable?.close(), readOnly?.close(), admin?.close()]);
  await server?.stop();
});

let adjustments = 0;
function adjustment(): BudgetAdjusted {
  adjustments++;
  return createBudgetAdjusted({
    partitionKey: 'alice',
    userKey: 'alice',
    action: BudgetAdjustmentAction.Reset,
    reason: `reset ${adjustments}`,
  });
}

async function storedAdjustments(ids: readonly string[]): Promise<number> {
  const result = await writable.query({
    query: `SELECT count() AS n FROM budget_adjustment_events
      WHERE event_id IN (${ids.map((id) => `'${id}'`).join(',')})`,
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ n: string }>();
  return Number(row.n);
}

describe('the ClickHouse writer while ClickHouse refuses inserts', () => {
  for (const [refusal, error] of [
    ['read-only', /readonly/],
    ['too-many-parts', /refused its last insert/],
  ] as const) {
    it(`fails a write of events it already holds while ${refusal}, and takes it once inserts are taken again`, async () => {
      const writer = new ClickHouseUsageWriter(client);
      const held = adjustment();
      await writer.write([held]);
      refusing = refusal;
      try {
        await assert.rejects(writer.write([adjustment()]), /readonly|Too many parts/);
        await assert.rejects(writer.write([held]), error);
      } finally {
        refusing = 'none';
      }
      await writer.write([adjustment()]);
      await writer.write([held]);
      assert.equal(await storedAdjustments([held.eventId]), 1);
    });
  }

  for (const refusal of ['read-only', 'too-many-parts'] as const) {
    it(`dead-letters nothing on a quiet topic while ${refusal}; stores it after`, async () => {
      const letters: HandlerDeadLetter[] = [];
      const log = new SqliteEventLog(':memory:');
      const bus = new EmbeddedEventBus(log, {
        flushIntervalMs: 5,
        maxBatch: 50,
        onError: () => undefined,
        onDeadLettered: (letter) => letters.push(letter),
        handlerAttempts: 2,
        quietTopicAttempts: 2,
        quietTopicAfterMs: 0,
        retryMinMs: 20,
        retryMaxMs: 50,
      });
      const writer = new ClickHouseUsageWriter(client);
      try {
        await bus.subscribe(new UsageSinkConsumer(writer, { maxItems: 100, maxWaitMs: 0 }));
        const first: GatewayEvent = adjustment();
        bus.publish(first);
        await until('the first adjustment is stored', async () => {
          return (await storedAdjustments([first.eventId])) === 1;
        });
        refusing = refusal;
        const second: GatewayEvent = adjustment();
        bus.publish(second);
        await bus.flush();
        // Retries every 20 to 50 ms: the quiet-topic rule has judged it many times over.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        assert.deepEqual(letters, []);
        refusing = 'none';
        await until('the second adjustment is stored', async () => {
          return (await storedAdjustments([second.eventId])) === 1;
        });
        assert.deepEqual(letters, []);
      } finally {
        refusing = 'none';
        await bus.close();
        log.close();
      }
    });
  }
});
