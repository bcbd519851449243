import { setTimeout as sleep } from 'node:timers/promises';
import { RAW_TABLES, type RawTable } from './event-rows';

/**
 * Raw tables retention never deletes from: an audit trail rather than traffic. Operators'
 * budget adjustments are a few rows each, and "who gave this user budget back" must still
 * be answerable after the usage they offset is gone. No rollup holds them either.
 */
export const AUDIT_TABLES: readonly RawTable[] = ['budget_adjustment_events'];

/** The raw tables retention deletes old rows from: every one but the audit trail. */
export const EXPIRING_TABLES: readonly RawTable[] = RAW_TABLES.filter(
  (table) => !AUDIT_TABLES.includes(table),
);

/** Prompts and answers (payloadLogging): kept for days, whatever the analytics retention. */
export const PAYLOAD_TABLES: readonly RawTable[] = ['request_payload_events'];

/** A store whose raw event rows can be deleted by age. */
export interface RawEventExpiry {
  /**
   * Deletes raw event rows of `tables` (default `EXPIRING_TABLES`) that occurred before
   * `cutoffSeconds` (Unix seconds), or as many of them as the store's granularity allows
   * without touching a newer one (a ClickHouse month, or the payloads' day, goes only once
   * all of it is older). Returns the rows deleted.
   */
  expireBefore(cutoffSeconds: number, tables?: readonly RawTable[]): Promise<number>;
}

/** AI_GATEWAY_PAYLOAD_RETENTION_DAYS: logged prompts and answers are deleted after it. */
export const PAYLOAD_RETENTION_DAYS_VARIABLE = 'AI_GATEWAY_PAYLOAD_RETENTION_DAYS';
export const DEFAULT_PAYLOAD_RETENTION_DAYS = 7;

/** The payload tables alone of `store`, for a retention of their own. */
export function payloadExpiry(store: RawEventExpiry): RawEventExpiry {
  return { expireBefore: (cutoff) => store.expireBefore(cutoff, PAYLOAD_TABLES) };
}

export type RetentionOutcome = { readonly expiredRows: number } | { readonly error: unknown };

export interface AnalyticsRetentionOptions {
  /** Raw rows older than this many days are deleted. */
  readonly retentionDays: number;
  /** Time between passes. The first pass runs at start, for a gateway that was down. */
  readonly everyMs: number;
  readonly onPass: (outcome: RetentionOutcome) => void;
  readonly now?: () => number;
}

const DAY_MS = 86_400_000;

/** AI_GATEWAY_ANALYTICS_RETENTION_DAYS: unset or 0 keeps every row. */
export const RETENTION_DAYS_VARIABLE = 'AI_GATEWAY_ANALYTICS_RETENTION_DAYS';

/**
 * Deletes the analytics store's raw event rows past their retention (the audit tables'
 * rows are kept), one pass at start and
 * then every `everyMs`, so a long-running gateway's analytics stop growing with traffic.
 * Passes never overlap; a failed pass is reported and the next one tries again.
 */
export class AnalyticsRetention {
  private readonly stopping = new AbortController();
  private running: Promise<void> = Promise.resolve();

  private constructor(
    private readonly store: RawEventExpiry,
    private readonly options: AnalyticsRetentionOptions,
  ) {}

  static start(store: RawEventExpiry, options: AnalyticsRetentionOptions): AnalyticsRetention {
    const retention = new AnalyticsRetention(store, options);
    retention.running = retention.loop();
    return retention;
  }

  /** Unix seconds before which rows are deleted now. */
  cutoffSeconds(): number {
    const now = this.options.now?.() ?? Date.now();
    return Math.floor((now - this.options.retentionDays * DAY_MS) / 1000);
  }

  /** Stops scheduling passes and waits for the one in flight. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { signal } = this.stopping;
    while (!signal.aborted) {
      await this.pass();
      try {
        await sleep(this.options.everyMs, undefined, { signal, ref: false });
      } catch {
        return; // stopped while waiting
      }
    }
  }

  private async pass(): Promise<void> {
    try {
      const expiredRows = await this.store.expireBefore(this.cutoffSeconds());
      this.options.onPass({ expiredRows });
    } catch (error) {
      this.options.onPass({ error });
    }
  }
}
