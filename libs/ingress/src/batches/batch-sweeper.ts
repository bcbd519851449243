import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import type { BatchState } from './files-and-batches-options';
import type { HeldObjectStore, HeldRecord } from './held-objects';

/** A batch's 24h completion window and the margin after it before the sweeper gives up. */
export const BATCH_WINDOW_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_GIVE_UP_MARGIN_MS = 12 * 60 * 60 * 1000;
const DEFAULT_CONCURRENCY = 4;
const DEFAULT_MAX_PER_ROUND = 1_000;

/**
 * What one check of a pending batch ended in: billed; still running (kept); finished with
 * nothing left to bill here; the backend no longer has it, or it is past its window and
 * margin, or the gateway no longer remembers it (each dropped from the index); its output
 * file gone from the backend (unbillable: billing unindexed it); or the check failed
 * (kept: the next round retries).
 */
export type SweepOutcome =
  | 'billed'
  | 'in_progress'
  | 'finished'
  | 'not_found'
  | 'expired'
  | 'forgotten'
  | 'failed'
  | 'output_gone';

/** The timer a sweeper runs on (Node's by default; a test's own). */
export interface SweeperTimers {
  readonly setInterval: (run: () => void, ms: number) => { unref?: () => void };
  readonly clearInterval: (handle: { unref?: () => void }) => void;
}

const NODE_TIMERS: SweeperTimers = {
  setInterval: (run, ms) => setInterval(run, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export interface BatchSweeperOptions {
  readonly store: Pick<HeldObjectStore, 'get' | 'pending' | 'touchPending' | 'removePending'>;
  /** Retrieves the batch from its backend and bills it if finished (FilesAndBatches). */
  readonly check: (record: HeldRecord) => Promise<BatchState>;
  /** Only the replica granted this lease sweeps a round (a claim in the shared store). */
  readonly lease?: (ttlMs: number) => Promise<boolean>;
  readonly intervalMs: number;
  readonly concurrency?: number;
  readonly maxPerRound?: number;
  /** After the completion window, how long an unfinished batch is still checked. */
  readonly giveUpMarginMs?: number;
  readonly now?: () => number;
  readonly timers?: SweeperTimers;
  readonly onOutcome?: (outcome: SweepOutcome) => void;
  /** A round that could not run (the index unreadable): counted and logged, never thrown. */
  readonly onRoundFailed?: (error: unknown) => void;
  /** Why a batch left the index (an operator reads why it was never billed). */
  readonly onDropped?: (
    record: { id: string; owner?: string; reservationId?: string },
    outcome: SweepOutcome,
  ) => void;
  readonly onCheckFailed?: (id: string, error: unknown) => void;
}

/**
 * Bills finished batches no client looks at: every `intervalMs` it takes the batches the
 * store indexes as not yet billed (least recently checked first), retrieves a few at a
 * time from their backends through the same call a client's GET makes, and bills the
 * finished ones through the same once-only claim. Its timer never keeps the process
 * alive, its errors are counted and logged, and `stop` ends it.
 */
export class BatchSweeper {
  private readonly now: () => number;
  private handle: { unref?: () => void } | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: BatchSweeperOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.options.intervalMs <= 0 || this.handle !== undefined || this.stopped) return;
    const timers = this.options.timers ?? NODE_TIMERS;
    this.handle = timers.setInterval(() => void this.tick(), this.options.intervalMs);
    // Never what keeps the process alive.
    this.handle.unref?.();
  }

  /** Stops the timer and waits for a round under way (it takes no more batches). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.handle !== undefined) {
      (this.options.timers ?? NODE_TIMERS).clearInterval(this.handle);
      this.handle = undefined;
    }
    await this.round;
  }

  /** One round from the timer: skipped while the last runs or another replica holds it. */
  private async tick(): Promise<void> {
    if (this.round || this.stopped) return;
    this.round = (async () => {
      try {
        const lease = this.options.lease;
        if (lease && !(await lease(Math.max(1, Math.floor(this.options.intervalMs * 0.8))))) {
          return;
        }
        await this.sweep();
      } catch (error) {
        this.options.onRoundFailed?.(error);
      }
    })().finally(() => {
      this.round = undefined;
    });
    await this.round;
  }

  /** One round: every pending batch (up to the round's cap) checked, a few at once. */
  async sweep(): Promise<void> {
    const { store } = this.options;
    const ids = await store.pending(this.options.maxPerRound ?? DEFAULT_MAX_PER_ROUND);
    let next = 0;
    const worker = async () => {
      while (next < ids.length && !this.stopped) {
        await this.checkOne(ids[next++]);
      }
    };
    const width = Math.max(1, this.options.concurrency ?? DEFAULT_CONCURRENCY);
    await Promise.all(Array.from({ length: Math.min(width, ids.length) }, worker));
  }

  private async checkOne(id: string): Promise<void> {
    const { store } = this.options;
    let outcome: SweepOutcome;
    let record: HeldRecord | undefined;
    try {
      record = await store.get(id);
      if (!record || (record.kind !== 'batch' && record.kind !== 'message_batch')) {
        outcome = 'forgotten';
      } else {
        outcome = await this.options.check(record);
        if (outcome === 'in_progress' && this.pastWindow(record)) outcome = 'expired';
      }
    } catch (error) {
      if (error instanceof DataPlaneError && error.code === DataPlaneErrorCode.NotFound) {
        outcome = 'not_found';
      } else {
        this.options.onCheckFailed?.(id, error);
        // A backend unreachable past the window is given up on like an unfinished batch.
        outcome = record && this.pastWindow(record) ? 'expired' : 'failed';
      }
    }
    this.options.onOutcome?.(outcome);
    try {
      if (outcome === 'not_found' || outcome === 'expired' || outcome === 'forgotten') {
        await store.removePending(id);
        this.options.onDropped?.(
          { id, owner: record?.owner, reservationId: record?.reservationId },
          outcome,
        );
      } else if (outcome !== 'billed' && outcome !== 'output_gone') {
        // Kept: to the back of the queue, so a large index is checked in turn (billed, or
        // its output gone, billing already took it out of the index).
        await store.touchPending(id);
      }
    } catch (error) {
      this.options.onCheckFailed?.(id, error);
    }
  }

  private pastWindow(record: HeldRecord): boolean {
    const margin = this.options.giveUpMarginMs ?? DEFAULT_GIVE_UP_MARGIN_MS;
    return this.now() > record.createdAt + BATCH_WINDOW_MS + margin;
  }
}
