import type { ClickHouseClient } from '@clickhouse/client';
import type { GatewayEvent } from '@aigw/contracts';
import { sqlIdentifier, sqlString } from '@aigw/infra';
import { toRowsByTable, type EventRow, type RawTable } from '../domain/event-rows';
import type { UsageEventWriter } from '../usage-sink.consumer';

/** Ids per existence check: keeps the query text well under max_query_size (256 KiB). */
const CHECK_CHUNK = 2_000;

/**
 * Writes each batch into the raw tables, keeping every event id to one row even when a
 * batch is delivered again (a sink restart before its commit, a consumer rebalance):
 *
 * 1. ids repeated inside the batch are dropped (`toRowsByTable`);
 * 2. ids the raw table already holds are dropped: one `SELECT event_id ... WHERE
 *    event_id IN (...)` per table, bounded to the batch's time range (the tables are
 *    ordered by time, so it reads only those granules);
 * 3. the rest is inserted, and the rollup views see only those rows.
 *
 * This process writes one batch at a time (the consumer's batcher), and a partition
 * has one consumer, so no two writers race over one id in normal operation.
 * ReplacingMergeTree (same key) folds anything that slips through at merge time, and
 * raw queries read with FINAL. The remaining gap, stated in the README: an insert whose
 * raw part was written but whose view push failed leaves those rows out of the rollups.
 *
 * Any error is thrown to the consumer, so the batch is not committed and comes again.
 */
export class ClickHouseUsageWriter implements UsageEventWriter {
  constructor(private readonly client: ClickHouseClient) {}

  async write(events: readonly GatewayEvent[]): Promise<void> {
    for (const [table, rows] of toRowsByTable(events)) {
      const fresh = await this.withoutStored(table, rows);
      if (fresh.length === 0) continue;
      await this.client.insert({
        table: sqlIdentifier(table),
        values: fresh,
        format: 'JSONEachRow',
      });
    }
  }

  private async withoutStored(table: RawTable, rows: readonly EventRow[]): Promise<EventRow[]> {
    const stored = new Set<string>();
    for (let i = 0; i < rows.length; i += CHECK_CHUNK) {
      const chunk = rows.slice(i, i + CHECK_CHUNK);
      const times = chunk.map((r) => Number(r.occurred_at));
      const [first, last] = [Math.min(...times), Math.max(...times)];
      if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) {
        throw new Error(`${table}: an event without a valid time reached the sink`);
      }
      const ids = chunk.map((r) => sqlString(String(r.event_id))).join(',');
      const result = await this.client.query({
        query: `SELECT event_id FROM ${sqlIdentifier(table)}
                WHERE occurred_at >= toDateTime(${first})
                  AND occurred_at <= toDateTime(${last})
                  AND event_id IN (${ids})`,
        format: 'JSONEachRow',
      });
      for (const row of await result.json<{ event_id: string }>()) stored.add(row.event_id);
    }
    return rows.filter((r) => !stored.has(String(r.event_id)));
  }
}
