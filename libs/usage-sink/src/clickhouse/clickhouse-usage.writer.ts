import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { GatewayEvent } from '@aigw/contracts';
import { sqlIdentifier, sqlString } from '@aigw/infra';
import {
  toRowsByTable,
  type EventRow,
  type RawTable,
  type RowsByTable,
} from '../domain/event-rows';
import type { UsageEventWriter } from '../usage-sink.consumer';

/** Ids per existence check: keeps the query text well under max_query_size (256 KiB). */
const CHECK_CHUNK = 2_000;

/** Told how many events of a batch a raw table already held, so were not inserted again. */
export type AlreadyStoredListener = (table: RawTable, events: number) => void;

/**
 * Writes each batch into the raw tables, keeping every event id to one row, and so to one
 * count in the rollups the materialized views feed, even when a batch is delivered again
 * (a sink restart before its commit, a consumer rebalance):
 *
 * 1. ids repeated inside the batch are dropped (`toRowsByTable`);
 * 2. ids the raw tables already hold are dropped: one query per batch, a `SELECT
 *    event_id ... WHERE event_id IN (...)` per table joined by `UNION ALL`, each bounded
 *    to the batch's time range (the tables are ordered by time, so it reads only those
 *    granules);
 * 3. the rest is inserted, and the rollup views see only those rows.
 *
 * Why a read before the insert rather than ClickHouse's insert deduplication: 18.16 (our
 * oldest) knows neither `insert_deduplication_token` ("Unknown setting") nor
 * `non_replicated_deduplication_window` (tried on the int infra's 18.16.1), and block
 * deduplication only matches a block identical to an earlier one, while a redelivered
 * batch rarely is (the batcher mixes up to 64 partitions' deliveries, cut by size and
 * time). ReplacingMergeTree folds only the raw table: its merges never reach the
 * SummingMergeTree rollups, which would keep a second insert's counts for good.
 *
 * This process writes one batch at a time (the consumer's batcher), and the bus heartbeats
 * while a write runs, so a partition's owner keeps it until its write is done. The bound
 * that remains: a consumer the group expelled (its 10 s session lapsed: a long pause, or
 * Kafka unreachable while ClickHouse is not) still writing while the new owner writes the
 * same events: each checks before the other's insert lands, both insert, and those events
 * count twice in the rollups (the raw table folds them, and raw queries use FINAL). At
 * most the events of the expelled sink's writes whose check-to-insert time overlaps the
 * new owner's write of them. Another gap, stated in the README: an insert whose raw part
 * was written but whose view push failed leaves those rows out of the rollups.
 *
 * An insert that failed on this side (the client's request timeout, a dropped connection)
 * may still be running on the server, and land after the redelivery's check: every insert
 * carries a query id, and the next write first asks whether a failed one still runs,
 * failing (so the bus backs off and redelivers) until none does.
 *
 * Any error is thrown to the consumer, so the batch is not committed and comes again.
 */
export class ClickHouseUsageWriter implements UsageEventWriter {
  /** Query ids of inserts that failed here and may still be running on the server. */
  private unsettledInserts: string[] = [];
  /** Per table, when an insert with rows was last refused for a reason only rows meet. */
  private readonly refusedWithRows = new Map<RawTable, number>();

  constructor(
    private readonly client: ClickHouseClient,
    private readonly onAlreadyStored: AlreadyStoredListener = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async write(events: readonly GatewayEvent[]): Promise<void> {
    await this.waitForUnsettledInserts();
    const byTable = toRowsByTable(events);
    const stored = await this.storedIds(byTable);
    for (const [table, rows] of byTable) {
      const held = stored.get(table);
      const fresh = held ? rows.filter((r) => !held.has(String(r.event_id))) : rows;
      if (fresh.length < rows.length) this.onAlreadyStored(table, rows.length - fresh.length);
      if (fresh.length === 0) {
        await this.assertTakesInserts(table);
        continue;
      }
      const queryId = randomUUID();
      try {
        await this.client.insert({
          table: sqlIdentifier(table),
          values: fresh,
          format: 'JSONEachRow',
          query_id: queryId,
        });
      } catch (error) {
        this.unsettledInserts.push(queryId);
        if (ROWS_REFUSED_CODES.has(clickHouseCode(error) ?? '')) {
          this.refusedWithRows.set(table, this.now());
        }
        throw error;
      }
      this.refusedWithRows.delete(table);
    }
  }

  /**
   * Throws when `table` refuses inserts, for a write with nothing left to insert there (its
   * events all held already). Such a write is what the buses hand a known event again to
   * prove the store works before dead-lettering one that keeps failing (PoisonIsolation):
   * answered by reads alone, it passed while ClickHouse refused every insert (a read-only
   * user or replica, a revoked grant), and the failing event, refused like any other, went
   * to the dead letters. An insert of no rows is refused for those and writes nothing; an
   * `INSERT ... SELECT`, never an asynchronous insert on a server that makes inserts so.
   * Refusals that come only with rows (too many parts, a full disk) it cannot see: the
   * table's last insert refused so, less than REFUSAL_REMEMBERED_MS ago and none taken
   * since, fails it instead (an event refused so fails again at each retry, within it).
   */
  private async assertTakesInserts(table: RawTable): Promise<void> {
    const refusedAt = this.refusedWithRows.get(table);
    if (refusedAt !== undefined && this.now() - refusedAt < REFUSAL_REMEMBERED_MS) {
      throw new Error(
        `ClickHouse refused its last insert into ${table} (too many parts or no disk space); ` +
          'events it already holds are not taken as written until it takes one again',
      );
    }
    const name = sqlIdentifier(table);
    await this.client.command({ query: `INSERT INTO ${name} SELECT * FROM ${name} WHERE 0` });
  }

  /**
   * Throws while an insert that failed here still runs on the server: a check now would not
   * see its rows, and they would be inserted, and counted in the rollups, a second time.
   * Asked by running `SELECT 1` under the insert's query id, which the server refuses while
   * a query with that id runs (QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING, on every version we
   * support): no system table to be granted.
   */
  private async waitForUnsettledInserts(): Promise<void> {
    const running: string[] = [];
    for (const queryId of this.unsettledInserts) {
      try {
        const result = await this.client.query({
          query: 'SELECT 1',
          format: 'JSONEachRow',
          query_id: queryId,
        });
        await result.json();
      } catch (error) {
        if (!isQueryIdInUse(error)) throw error; // ClickHouse away: asked again next time
        running.push(queryId);
      }
    }
    this.unsettledInserts = running;
    if (running.length > 0) {
      throw new Error(
        `${running.length} insert(s) that failed on the sink's side still run on ClickHouse; ` +
          'the batch is written once they end',
      );
    }
  }

  /**
   * The batch's ids each raw table already holds: one query for every table the batch
   * writes to (`UNION ALL` of a check per table), or more only past CHECK_CHUNK ids.
   */
  private async storedIds(byTable: RowsByTable): Promise<Map<RawTable, Set<string>>> {
    const stored = new Map<RawTable, Set<string>>();
    let checks: string[] = [];
    let ids = 0;
    const ask = async () => {
      if (checks.length === 0) return;
      const result = await this.client.query({
        query: checks.join('\nUNION ALL\n'),
        format: 'JSONEachRow',
      });
      for (const row of await result.json<{ raw_table: RawTable; event_id: string }>()) {
        let held = stored.get(row.raw_table);
        if (!held) stored.set(row.raw_table, (held = new Set()));
        held.add(row.event_id);
      }
      checks = [];
      ids = 0;
    };
    for (const [table, rows] of byTable) {
      for (let i = 0; i < rows.length; i += CHECK_CHUNK) {
        const chunk = rows.slice(i, i + CHECK_CHUNK);
        if (ids + chunk.length > CHECK_CHUNK) await ask();
        checks.push(storedIdsQuery(table, chunk));
        ids += chunk.length;
      }
    }
    await ask();
    return stored;
  }
}

/**
 * ClickHouse's refusals of an insert that only its rows meet, which an insert of no rows
 * passes: TOO_MANY_PARTS (a partition's merges behind its inserts), NOT_ENOUGH_SPACE.
 */
const ROWS_REFUSED_CODES: ReadonlySet<string> = new Set(['252', '243']);

/**
 * How long such a refusal keeps a write of already-held events failing: the bus retries a
 * refused event well within it (its backoff is at most seconds), so the memory holds while
 * the table refuses, and lapses where no event is refused any more (one moved to another
 * sink in a rebalance) rather than holding held events back for good.
 */
export const REFUSAL_REMEMBERED_MS = 120_000;

/** A ClickHouse error's code: the client's `code`, its cause's, or "Code: N" in the text. */
function clickHouseCode(error: unknown): string | undefined {
  for (let at = error, depth = 0; at instanceof Error && depth < 3; depth++) {
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string' && /^\d+$/.test(code)) return code;
    const worded = /\bCode: (\d+)/.exec(at.message);
    if (worded) return worded[1];
    at = at.cause;
  }
  return undefined;
}

/** ClickHouse's QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING. */
const QUERY_ID_IN_USE = '216';

function isQueryIdInUse(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === QUERY_ID_IN_USE;
}

/** Which of `rows`' ids `table` holds, read only within their time range (the key's prefix). */
function storedIdsQuery(table: RawTable, rows: readonly EventRow[]): string {
  const times = rows.map((r) => Number(r.occurred_at));
  const [first, last] = [Math.min(...times), Math.max(...times)];
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) {
    throw new Error(`${table}: an event without a valid time reached the sink`);
  }
  const ids = rows.map((r) => sqlString(String(r.event_id))).join(',');
  return `SELECT ${sqlString(table)} AS raw_table, event_id FROM ${sqlIdentifier(table)}
    WHERE occurred_at >= toDateTime(${first}) AND occurred_at <= toDateTime(${last})
      AND event_id IN (${ids})`;
}
