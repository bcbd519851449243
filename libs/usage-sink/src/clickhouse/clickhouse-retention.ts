import type { ClickHouseClient } from '@clickhouse/client';
import { sqlIdentifier, sqlString } from '@aigw/infra';
import { EXPIRING_TABLES, type RawEventExpiry } from '../domain/analytics-retention';
import type { RawTable } from '../domain/event-rows';

/** A month partition of the raw tables (`PARTITION BY toYYYYMM(occurred_at)`). */
const MONTH_PARTITION = /^(\d{4})(\d{2})$/;
/** A day partition (`toYYYYMMDD`): the payload table, whose rows are kept briefly. */
const DAY_PARTITION = /^(\d{4})(\d{2})(\d{2})$/;

interface PartitionRow {
  readonly table: string;
  readonly partition: string;
  readonly rows: string | number;
}

/**
 * Raw-table retention on ClickHouse: drops each month partition of the raw tables once
 * the whole month is older than the cutoff, so a row goes up to a month after its
 * retention and never before. Dropping a partition is a metadata operation and works on
 * every version we support (18.16 has no table TTL). The rollups the analytics API reads
 * (`usage_hourly`, ...) are kept: they are small, and dashboards keep their history; so
 * are the audit tables (operators' budget adjustments).
 */
export class ClickHouseRawEventExpiry implements RawEventExpiry {
  constructor(private readonly client: ClickHouseClient) {}

  async expireBefore(
    cutoffSeconds: number,
    tables: readonly RawTable[] = EXPIRING_TABLES,
  ): Promise<number> {
    let dropped = 0;
    for (const part of await this.partitions(tables)) {
      const end = partitionEndSeconds(part.partition);
      if (end === undefined || end > cutoffSeconds) continue;
      // The partition id is six or eight digits (checked above), so it is safe as a literal.
      await this.client.command({
        query: `ALTER TABLE ${sqlIdentifier(part.table)} DROP PARTITION ${part.partition}`,
      });
      dropped += Number(part.rows);
    }
    return dropped;
  }

  /** Active partitions of the raw tables in this database, with their row counts. */
  private async partitions(tables: readonly RawTable[]): Promise<PartitionRow[]> {
    const result = await this.client.query({
      query: `SELECT table, partition, sum(rows) AS rows FROM system.parts
              WHERE database = currentDatabase() AND active
                AND table IN (${tables.map(sqlString).join(', ')})
              GROUP BY table, partition ORDER BY table, partition`,
      format: 'JSONEachRow',
    });
    return result.json<PartitionRow>();
  }
}

/** The first second after what a month or day partition holds; undefined for any other id. */
export function partitionEndSeconds(partition: string): number | undefined {
  return monthEndSeconds(partition) ?? dayEndSeconds(partition);
}

/** The first second (Unix, UTC) after the day a `YYYYMMDD` partition holds. */
export function dayEndSeconds(partition: string): number | undefined {
  const match = DAY_PARTITION.exec(partition);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const start = Date.UTC(year, month - 1, day);
  // A day that does not exist (20240230) rolls over in Date.UTC: refused, never dropped.
  if (new Date(start).getUTCDate() !== day || month < 1 || month > 12) return undefined;
  return start / 1000 + 86_400;
}

/** The first second (Unix, UTC) after the month a `YYYYMM` partition holds. */
export function monthEndSeconds(partition: string): number | undefined {
  const match = MONTH_PARTITION.exec(partition);
  if (!match) return undefined;
  const [year, month] = [Number(match[1]), Number(match[2])];
  if (month < 1 || month > 12) return undefined;
  // Date.UTC takes a zero-based month, so `month` is already the next one.
  return Date.UTC(year, month, 1) / 1000;
}
