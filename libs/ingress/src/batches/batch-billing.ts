import {
  callerBudgetKey,
  DataPlaneError,
  DataPlaneErrorCode,
  type CallerContext,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import { buildGatewayRequest } from '../domain/request-builder';
import { recordBudgetKey } from './batch-budget-key';
import { sumBatchUsageStream, type BatchUsage } from './batch-jsonl';
import { batchUsageEvent } from './batch-settlement';
import type {
  BatchFinished,
  BatchState,
  BillingTrigger,
  FilesAndBatchesOptions,
} from './files-and-batches-options';
import { gatewayId, type HeldKind } from './gateway-ids';
import { enc, isGoneAtBackend, jsonOf } from './held-api';
import { recordUserId, type HeldRecord } from './held-objects';
import { shownBatchErrors } from './shown-batch-errors';
import type { HeldRecords } from './held-records';
import { describedFile, lacksFileFields, outputFileObject } from './output-files';

/**
 * The backend's batch as its owner sees it: the gateway's ids, the client's model name,
 * also in the reasons a failed batch gives.
 */
export function shownBatch(record: HeldRecord, answer: JsonObject): JsonObject {
  const fileId = (value: unknown) =>
    typeof value === 'string' && value !== ''
      ? gatewayId('file', { route: record.route, backend: record.backend, providerId: value })
      : value;
  return {
    ...answer,
    id: record.id,
    input_file_id: fileId(answer.input_file_id),
    output_file_id: fileId(answer.output_file_id),
    error_file_id: fileId(answer.error_file_id),
    ...(typeof answer.model === 'string' ? { model: record.model } : {}),
    ...(answer.errors === undefined ? {} : { errors: shownBatchErrors(record, answer) }),
  };
}

/** What one look found a batch to be, as its kind reads its backend's answer. */
export interface BatchLook {
  /** The batch as its owner sees it, remembered for lists. */
  readonly shown: JsonObject;
  /** Ended with usage to bill, ended with nothing to bill (its hold given back), or running. */
  readonly ending: 'billable' | 'unbilled' | 'running';
  /** The ended batch's usage, read from what it produced. */
  readonly readUsage: () => Promise<BatchUsage>;
  /** How it ended, for operators, once it has. */
  readonly finished: BatchFinished | undefined;
  /** Whether a remembered object of the batch had already ended (counted by then). */
  readonly endedIn: (object: JsonObject) => boolean;
}

/**
 * How long one look's claim to bill a batch keeps other looks off it: far longer than
 * reading any output file takes. Should a read outlast it and two looks bill, both events
 * carry the batch's one event id (batchEventId), which budgets and analytics take once.
 */
const BILLING_LEASE_MS = 15 * 60_000;

/** A batch that ended with some work done: its output is billed. */
export const BILLED_STATUSES: ReadonlySet<string> = new Set(['completed', 'cancelled', 'expired']);
/** A batch in one of these will not change again. */
const FINAL_STATUSES: ReadonlySet<string> = new Set([...BILLED_STATUSES, 'failed']);

type BillingOptions = Omit<FilesAndBatchesOptions, 'upstream' | 'onRedacted' | 'now'>;

/**
 * A batch's budget and billing: checked before it is created, and billed once, from its
 * output file's usage at the batch price, by whichever look first sees it finished (a
 * client's, the sweeper's, or a download of its output).
 */
export class BatchBilling {
  constructor(
    private readonly options: BillingOptions,
    private readonly records: HeldRecords,
    private readonly now: () => number,
  ) {}

  /**
   * A look at a pending batch (the sweeper's, or a delete's of its output): retrieved as a
   * client's GET retrieves it (through the router and adapter when split) and billed if
   * finished. A backend's error (a 404 among them) is thrown.
   */
  async checkBatch(record: HeldRecord, trigger: BillingTrigger = 'sweeper'): Promise<BatchState> {
    const answer = jsonOf(
      await this.records.call(record, 'GET', `/batches/${enc(record.providerId)}`),
    );
    return (await this.seenBatch(record, answer, trigger)).state;
  }

  /**
   * Before a batch's output file is deleted: its batch billed from it, if that is still
   * owed, so a delete can never leave a batch unbilled. Throws (503, retry later) when the
   * batch still owes its bill after trying: the read failed, the batch still runs, or
   * another look is billing it right now.
   */
  async billBeforeOutputDeleted(file: HeldRecord): Promise<void> {
    if (file.batchId === undefined) return;
    const batchId = file.batchId;
    try {
      const batch = await this.options.store.get(batchId);
      if (!batch || !owesBillingFrom(batch, file.id)) return;
      const status = batch.object.status;
      if (typeof status === 'string' && BILLED_STATUSES.has(status)) {
        await this.settle(batch, () => this.readUsage(batch, file.providerId), 'delete');
      } else {
        // Seen running with an output (cancelling): how it is now, billed if it finished.
        await this.checkBatch(batch, 'delete');
      }
      const latest = await this.options.store.get(batchId);
      if (!latest || !owesBillingFrom(latest, file.id)) return;
    } catch (error) {
      this.options.onError?.('billing a batch before its output file is deleted', error);
    }
    throw outputStillOwed(file.id, batchId);
  }

  /**
   * The batch as the client sees it (gateway ids, its model name), remembered for lists;
   * its output and error files become the owner's; a finished batch is billed once.
   */
  async seenBatch(
    record: HeldRecord,
    answer: JsonObject,
    trigger: BillingTrigger,
  ): Promise<{ shown: JsonObject; state: BatchState }> {
    const shown = shownBatch(record, answer);
    for (const produced of [answer.output_file_id, answer.error_file_id]) {
      if (typeof produced === 'string' && produced !== '') {
        await this.adoptOutput(record, produced);
      }
    }
    const status = typeof answer.status === 'string' ? answer.status : '';
    const output = typeof answer.output_file_id === 'string' ? answer.output_file_id : '';
    const state = await this.looked(
      record,
      {
        shown,
        // Ended without output (failed, cancelled early): nothing will ever be billed.
        ending:
          BILLED_STATUSES.has(status) && output !== ''
            ? 'billable'
            : FINAL_STATUSES.has(status)
              ? 'unbilled'
              : 'running',
        readUsage: () => this.readUsage(record, output),
        finished: FINAL_STATUSES.has(status) ? finishedBatch(status, answer) : undefined,
        endedIn: (object) => typeof object.status === 'string' && FINAL_STATUSES.has(object.status),
      },
      trigger,
    );
    return { shown, state };
  }

  /**
   * A look at a batch of any kind (an OpenAI batch, an Anthropic message batch) acted on:
   * remembered as `look.shown`; counted once for operators when it first ends; billed once
   * when it ended with usage to bill; its hold given back when it ended with none.
   */
  async looked(record: HeldRecord, look: BatchLook, trigger: BillingTrigger): Promise<BatchState> {
    const { reservationId, ...kept } = record;
    // Given back before the record forgets it: a release that fails (the budget store away)
    // stays the batch's, and it stays indexed, so the next look (the sweeper's) tries again.
    // Looks racing both give it back: releasing a hold twice gives nothing twice.
    const released = look.ending === 'unbilled' && (await this.releaseHold(reservationId));
    // Read again: a look that raced this one may have billed the batch (or found its output
    // gone) since `record` was read, and writing `record` back would drop its mark (billed
    // again once the claim lapses).
    const latest = await this.options.store.get(record.id);
    if (look.finished && !look.endedIn((latest ?? record).object)) {
      await this.countFinished(record.id, look.finished);
    }
    const billed = record.billed === true || latest?.billed === true;
    const outputGone = record.outputGone === true || latest?.outputGone === true;
    await this.options.store.put(
      {
        ...(released ? kept : record),
        ...(billed && { billed }),
        ...(outputGone && { outputGone }),
        object: look.shown,
      },
      this.options.ttlMs,
    );
    if (look.ending === 'billable') {
      if (!billed && !outputGone) return await this.settle(record, look.readUsage, trigger);
      // Nothing left to bill: out of the sweeper's index, should the look that billed it
      // have failed to take it out (its store away then), else the sweeper reads it for ever.
      await this.unindex(record.id);
      return 'finished';
    }
    if (look.ending === 'unbilled') {
      if (released) await this.unindex(record.id);
      return 'finished';
    }
    return 'in_progress';
  }

  /**
   * Whether a look at its backend may still find the batch changed or owing: not seen
   * ended, ended with output not yet billed (nor found gone), or ended with nothing to
   * bill and its hold not yet given back. One ended and settled is as last seen.
   */
  awaitsLook(record: HeldRecord): boolean {
    const { status, output_file_id: output } = record.object;
    if (typeof status !== 'string' || !FINAL_STATUSES.has(status)) return true;
    if (BILLED_STATUSES.has(status) && typeof output === 'string' && output !== '') {
      return record.billed !== true && record.outputGone !== true;
    }
    return record.reservationId !== undefined;
  }

  /**
   * A batch output file downloaded whole: its batch billed from the usage tallied as it
   * streamed to the client, if no look has billed it yet.
   */
  async billOnDownload(file: HeldRecord, usage: BatchUsage): Promise<void> {
    try {
      const batch = await this.options.store.get(file.batchId!);
      const status = batch?.object.status;
      if (!batch || batch.billed || typeof status !== 'string' || !BILLED_STATUSES.has(status)) {
        return;
      }
      if (batch.object.output_file_id !== file.id) return;
      await this.settle(batch, async () => usage, 'content');
    } catch (error) {
      this.options.onError?.('billing a batch on its output download', error);
    }
  }

  /**
   * Refuses a batch when the owner's budgets are spent, their tier's among them (held and
   * at once given back). `caller` is the creator (the file's owner, just checked) as the
   * route identifies them now; without one, the file's record says whose budget it is.
   */
  async checkBudget(file: HeldRecord, caller: CallerContext | undefined): Promise<void> {
    const admission = this.options.admission;
    if (!admission) return;
    // The budget its hold is taken in and its bill charged to: the caller's own budget key
    // (its record's owner key where that is qualified, recordBudgetKey), with the user id.
    const userId = caller?.userKey ?? recordUserId(file);
    const budgetKey = caller
      ? callerBudgetKey(caller)
      : recordBudgetKey(this.options.config(), file);
    const tier = caller?.tier;
    const probe = buildGatewayRequest(
      'embeddings',
      { model: file.model, input: '' },
      {
        requestId: `batch-admission-${crypto.randomUUID()}`,
        caller: {
          userKey: userId,
          ...(budgetKey !== userId && { budgetKey }),
          ...(tier !== undefined && { tier }),
        },
        allowedModels: [],
        forwardHeaders: {},
      },
    );
    await admission.release(await admission.admit(probe));
  }

  /**
   * Holds the batch's estimated cost (its input file's, summed at upload) against the
   * owner's budgets until it is billed; undefined without holds or a binding limit.
   */
  async hold(file: HeldRecord, tier: string | undefined): Promise<string | undefined> {
    const { holds } = this.options;
    if (!holds) return undefined;
    try {
      const id = await holds.hold({ ...file, ...(tier !== undefined && { tier }) }, file.estimate);
      if (id !== undefined) this.options.onAction?.('batch', 'hold', 'ok');
      return id;
    } catch (error) {
      this.options.onAction?.('batch', 'hold', holdOutcome(error));
      throw error;
    }
  }

  /**
   * Gives a batch's hold back: it ended with nothing to bill, or was never created. True
   * when there is none left to give back; a failure is logged and answers false (else the
   * hold lapses by itself after the batch's window).
   */
  async releaseHold(reservationId: string | undefined): Promise<boolean> {
    const { holds } = this.options;
    if (!holds || reservationId === undefined) return true;
    try {
      await holds.release(reservationId);
      this.options.onAction?.('batch', 'release', 'ok');
      return true;
    } catch (error) {
      this.options.onAction?.('batch', 'release', 'failed');
      this.options.onError?.('releasing a batch hold', error);
      return false;
    }
  }

  /**
   * A batch first seen ended is counted for operators (how it ended, its requests), once:
   * the look that sees the change claims it, so racing looks and replicas count it one
   * time. A claim that fails leaves it uncounted, never the client's error.
   */
  private async countFinished(id: string, finished: BatchFinished): Promise<void> {
    const { onFinished, store, ttlMs } = this.options;
    if (!onFinished) return;
    try {
      if (!(await store.claim(`finished:${id}`, ttlMs))) return;
    } catch (error) {
      this.options.onError?.('counting a finished batch', error);
      return;
    }
    onFinished(finished);
  }

  /** Takes a batch out of the sweeper's index: nothing is left to bill. */
  async unindex(id: string): Promise<void> {
    await this.options.store
      .removePending(id)
      .catch((error: unknown) => this.options.onError?.('unindexing a billed batch', error));
  }

  /**
   * A file the batch produced, recorded as its owner's (once), with the file object its
   * backend describes (its bytes, filename, created_at), which lists show. Unanswered, it is
   * asked again at the next look or list.
   */
  private async adoptOutput(batch: HeldRecord, providerId: string): Promise<void> {
    const id = gatewayId('file', { route: batch.route, backend: batch.backend, providerId });
    const known = await this.options.store.get(id);
    if (known && !lacksFileFields(known.object)) return;
    // The owner's, but not the batch's hold: only the batch's billing settles that.
    const { reservationId: _hold, ...owner } = batch;
    const record: HeldRecord = known ?? {
      ...owner,
      id,
      kind: 'file',
      providerId,
      batchId: batch.id,
      createdAt: this.now(),
      object: { id, object: 'file', purpose: 'batch_output' },
    };
    const described = await describedFile(this.records, batch, providerId, this.options.onError);
    if (known && !described) return;
    const object = described ? outputFileObject(record, described) : record.object;
    await this.options.store.put({ ...record, object }, this.records.fileTtl(object));
  }

  /**
   * Bills a finished batch once across replicas and repeated looks: the first to claim
   * it reads the output file and records its usage, and the batch leaves the sweeper's
   * index; a failure gives the claim back (the next look tries again) and is never the
   * client's error. The claim is a lease (BILLING_LEASE_MS), not the record's TTL: a
   * replica stopped while billing (a restart mid-read) leaves the batch to the next look
   * after it, not unbilled for a month. Once billed, it stays claimed (keepClaimed).
   * Any batch's: `readUsage` reads what it consumed (an OpenAI output file, an Anthropic
   * message batch's results).
   */
  async settle(
    batch: HeldRecord,
    readUsage: () => Promise<BatchUsage>,
    trigger: BillingTrigger,
  ): Promise<BatchState> {
    const { store } = this.options;
    const key = `settled:${batch.id}`;
    const kind = settledKind(batch);
    try {
      if (!(await store.claim(key, BILLING_LEASE_MS))) return 'finished';
    } catch (error) {
      this.options.onError?.('claiming a batch to bill', error);
      return 'failed';
    }
    let usage: BatchUsage;
    try {
      usage = await readUsage();
    } catch (error) {
      if (isGoneAtBackend(error)) return await this.outputGone(batch, key, error);
      return await this.failedSettling(key, error, kind);
    }
    try {
      const { event, dollars } = batchUsageEvent(
        this.options.config(),
        batch,
        usage,
        this.options.priceFactor,
      );
      this.options.publish(event);
      if (this.options.untilRecorded) await this.options.untilRecorded();
      this.options.onAction?.(kind, 'settle', 'ok');
      this.options.onSettled?.({
        batch,
        trigger,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        cachedInputTokens: usage.cachedInputTokens,
        dollars,
      });
    } catch (error) {
      return await this.failedSettling(key, error, kind);
    }
    await this.keepClaimed(key);
    await this.mark(batch.id, { billed: true });
    await this.unindex(batch.id);
    return 'billed';
  }

  /**
   * A settled batch's lease made a claim for as long as the batch is remembered: its
   * record's mark (billed, output gone) alone could be written over by a look that read the
   * record before it, and the batch read and billed again once the lease was past. In one
   * step (holdClaim): a look coming between giving the lease back and claiming again would
   * bill the batch once more.
   */
  private async keepClaimed(key: string): Promise<void> {
    const { store, ttlMs } = this.options;
    try {
      await store.holdClaim(key, ttlMs);
    } catch (error) {
      this.options.onError?.('keeping a billed batch claimed', error);
    }
  }

  /** A billing that failed: counted, logged, and its claim given back (the next look retries). */
  private async failedSettling(key: string, error: unknown, kind: HeldKind): Promise<BatchState> {
    this.options.onAction?.(kind, 'settle', 'failed');
    this.options.onError?.('billing a finished batch', error);
    await this.options.store.release(key).catch(() => undefined);
    return 'failed';
  }

  /**
   * The backend no longer has the batch's output (deleted or expired there): it can never
   * be billed, so no look tries again. Counted (outcome output_gone) and logged; the claim
   * is kept for as long as the batch is remembered (as a billed one's: its mark may be
   * written over), the batch marked and unindexed, and its hold left to lapse (the one
   * count of what it spent).
   */
  private async outputGone(batch: HeldRecord, key: string, error: unknown): Promise<BatchState> {
    this.options.onAction?.(settledKind(batch), 'settle', 'output_gone');
    this.options.onError?.(
      'billing a finished batch (its output file is gone: never billed)',
      error,
    );
    await this.keepClaimed(key);
    await this.mark(batch.id, { outputGone: true });
    await this.unindex(batch.id);
    return 'output_gone';
  }

  /**
   * The usage of a batch's output file (its provider id), summed as the file streams from
   * the backend: one line in memory at a time, whatever the file's size.
   */
  private async readUsage(batch: HeldRecord, output: string): Promise<BatchUsage> {
    return await this.usageOf(batch, `/files/${enc(output)}/content`, sumBatchUsageStream);
  }

  /**
   * The usage `sum` reads from what the batch produced (its backend's `path`) as it streams,
   * its bytes counted for operators however the read ends.
   */
  async usageOf(
    batch: HeldRecord,
    path: string,
    sum: (body: AsyncIterable<Uint8Array>) => Promise<BatchUsage>,
  ): Promise<BatchUsage> {
    const answer = await this.records.open(batch, path);
    let bytes = 0;
    const counted = async function* (source: AsyncIterable<Uint8Array>) {
      for await (const chunk of source) {
        bytes += chunk.length;
        yield chunk;
      }
    };
    try {
      const usage = await sum(counted(answer.body));
      this.options.onFileBytes?.('billing', 'complete', bytes);
      return usage;
    } catch (error) {
      this.options.onFileBytes?.('billing', 'failed', bytes);
      throw error;
    } finally {
      answer.body.destroy();
    }
  }

  /**
   * Marks the batch's record billed (or its output gone), for as long as it is remembered
   * (not its claim's TTL).
   */
  private async mark(
    id: string,
    marks: { readonly billed: true } | { readonly outputGone: true },
  ): Promise<void> {
    const { store, ttlMs } = this.options;
    try {
      const latest = await store.get(id);
      if (latest) await store.put({ ...latest, ...marks }, ttlMs);
    } catch (error) {
      this.options.onError?.('marking a batch billed', error);
    }
  }
}

/** An OpenAI batch ended in `status`, as operators count it. */
function finishedBatch(status: string, answer: JsonObject): BatchFinished {
  return {
    status,
    completedRequests: requestCount(answer, 'completed'),
    failedRequests: requestCount(answer, 'failed'),
  };
}

/** A count of a batch's `request_counts` (0 when absent or not a count). */
export function requestCount(answer: JsonObject, key: string): number {
  const counts = answer.request_counts;
  const value =
    typeof counts === 'object' && counts !== null && !Array.isArray(counts)
      ? (counts as JsonObject)[key]
      : undefined;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/** The kind a batch's billing is counted under: an OpenAI batch's or a message batch's. */
function settledKind(batch: HeldRecord): HeldKind {
  return batch.kind === 'message_batch' ? 'message_batch' : 'batch';
}

/**
 * Whether the batch still owes its bill from the output file `fileId` (a gateway id): not
 * billed, its output not found gone, and not failed (a failed batch bills nothing).
 */
function owesBillingFrom(batch: HeldRecord, fileId: string): boolean {
  return (
    batch.billed !== true &&
    batch.outputGone !== true &&
    batch.object.output_file_id === fileId &&
    batch.object.status !== 'failed'
  );
}

/** Seconds a refused delete of an unbilled output asks the client to wait. */
const OUTPUT_DELETE_RETRY_SECONDS = 30;

/**
 * A delete refused: the output still owes its batch's bill. 503, not 409: nothing in the
 * request conflicts; the gateway could not read the file just now (or another look is
 * reading it), and the same delete succeeds once it has. SDKs retry it.
 */
function outputStillOwed(fileId: string, batchId: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.NoBackendAvailable,
    `The file ${fileId} is the output of batch ${batchId}, which the gateway has not billed yet: it could not read the file to bill it. Try again later.`,
    {
      upstreamCode: 'batch_output_unbilled',
      retryAfterMs: OUTPUT_DELETE_RETRY_SECONDS * 1000,
    },
  );
}

/**
 * A hold that was not taken, as the metric tells it: refused for lack of room (429),
 * invalid (larger than a whole window, an unestimated file), or failed (the store away).
 */
function holdOutcome(error: unknown): string {
  if (!(error instanceof DataPlaneError)) return 'failed';
  if (error.code === DataPlaneErrorCode.BudgetExceeded) return 'refused';
  return error.code === DataPlaneErrorCode.InvalidRequest ? 'invalid' : 'failed';
}
