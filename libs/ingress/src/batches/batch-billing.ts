import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { buildGatewayRequest } from '../domain/request-builder';
import { sumBatchUsageStream, type BatchUsage } from './batch-jsonl';
import { batchUsageEvent } from './batch-settlement';
import type {
  BatchState,
  BillingTrigger,
  FilesAndBatchesOptions,
} from './files-and-batches-options';
import { gatewayId } from './gateway-ids';
import { enc, jsonOf } from './held-api';
import type { HeldRecord } from './held-objects';
import type { HeldRecords } from './held-records';

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
   * The sweeper's look at a pending batch: retrieved as a client's GET retrieves it
   * (through the router and adapter when split) and billed if finished. A backend's
   * error (a 404 among them) is thrown.
   */
  async checkBatch(record: HeldRecord): Promise<BatchState> {
    const answer = jsonOf(
      await this.records.call(record, 'GET', `/batches/${enc(record.providerId)}`),
    );
    return (await this.seenBatch(record, answer, 'sweeper')).state;
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
    const fileId = (value: unknown) =>
      typeof value === 'string' && value !== ''
        ? gatewayId('file', { route: record.route, backend: record.backend, providerId: value })
        : value;
    const shown: JsonObject = {
      ...answer,
      id: record.id,
      input_file_id: fileId(answer.input_file_id),
      output_file_id: fileId(answer.output_file_id),
      error_file_id: fileId(answer.error_file_id),
      ...(typeof answer.model === 'string' ? { model: record.model } : {}),
    };
    for (const produced of [answer.output_file_id, answer.error_file_id]) {
      if (typeof produced === 'string' && produced !== '') {
        await this.adoptOutput(record, produced);
      }
    }
    const status = typeof answer.status === 'string' ? answer.status : '';
    const output = typeof answer.output_file_id === 'string' ? answer.output_file_id : '';
    const billable = BILLED_STATUSES.has(status) && output !== '';
    // Ended without output (failed, cancelled early): nothing will ever be billed.
    const unbilled = !billable && FINAL_STATUSES.has(status);
    const { reservationId, ...kept } = record;
    // Given back before the record forgets it: a release that fails (the budget store away)
    // stays the batch's, and it stays indexed, so the next look (the sweeper's) tries again.
    // Looks racing both give it back: releasing a hold twice gives nothing twice.
    const released = unbilled && (await this.releaseHold(reservationId));
    // Read again: a look that raced this one may have billed the batch since `record` was
    // read, and writing `record` back would drop its mark (billed again once the claim lapses).
    const billed = record.billed === true || (await this.billedSince(record));
    await this.options.store.put(
      { ...(released ? kept : record), ...(billed && { billed }), object: shown },
      this.options.ttlMs,
    );
    if (billable) {
      if (billed) return { shown, state: 'finished' };
      const read = () => this.readUsage(record, output);
      const state = await this.settle(record, read, trigger);
      return { shown, state };
    }
    if (unbilled) {
      if (released) await this.unindex(record.id);
      return { shown, state: 'finished' };
    }
    return { shown, state: 'in_progress' };
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
   * at once given back).
   */
  async checkBudget(file: HeldRecord, tier: string | undefined): Promise<void> {
    const admission = this.options.admission;
    if (!admission) return;
    const probe = buildGatewayRequest(
      'embeddings',
      { model: file.model, input: '' },
      {
        requestId: `batch-admission-${crypto.randomUUID()}`,
        caller: { userKey: file.owner, ...(tier !== undefined && { tier }) },
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

  private async unindex(id: string): Promise<void> {
    await this.options.store
      .removePending(id)
      .catch((error: unknown) => this.options.onError?.('unindexing a billed batch', error));
  }

  /** A file the batch produced, recorded as its owner's (once). */
  private async adoptOutput(batch: HeldRecord, providerId: string): Promise<void> {
    const id = gatewayId('file', { route: batch.route, backend: batch.backend, providerId });
    if (await this.options.store.get(id)) return;
    // The owner's, but not the batch's hold: only the batch's billing settles that.
    const { reservationId: _hold, ...owner } = batch;
    await this.options.store.put(
      {
        ...owner,
        id,
        kind: 'file',
        providerId,
        batchId: batch.id,
        createdAt: this.now(),
        object: { id, object: 'file', purpose: 'batch_output' },
      },
      this.options.ttlMs,
    );
  }

  /**
   * Bills a finished batch once across replicas and repeated looks: the first to claim
   * it reads the output file and records its usage, and the batch leaves the sweeper's
   * index; a failure gives the claim back (the next look tries again) and is never the
   * client's error.
   */
  private async settle(
    batch: HeldRecord,
    readUsage: () => Promise<BatchUsage>,
    trigger: BillingTrigger,
  ): Promise<BatchState> {
    const { store } = this.options;
    const key = `settled:${batch.id}`;
    try {
      if (!(await store.claim(key, this.options.ttlMs))) return 'finished';
    } catch (error) {
      this.options.onError?.('claiming a batch to bill', error);
      return 'failed';
    }
    try {
      const usage = await readUsage();
      const { event, dollars } = batchUsageEvent(
        this.options.config(),
        batch,
        usage,
        this.options.priceFactor,
      );
      this.options.publish(event);
      if (this.options.untilRecorded) await this.options.untilRecorded();
      this.options.onAction?.('batch', 'settle', 'ok');
      this.options.onSettled?.({
        batch,
        trigger,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        dollars,
      });
    } catch (error) {
      this.options.onAction?.('batch', 'settle', 'failed');
      this.options.onError?.('billing a finished batch', error);
      await store.release(key).catch(() => undefined);
      return 'failed';
    }
    await this.markBilled(batch.id);
    await this.unindex(batch.id);
    return 'billed';
  }

  /**
   * The usage of a batch's output file (its provider id), summed as the file streams from
   * the backend: one line in memory at a time, whatever the file's size.
   */
  private async readUsage(batch: HeldRecord, output: string): Promise<BatchUsage> {
    const answer = await this.records.open(batch, `/files/${enc(output)}/content`);
    let bytes = 0;
    const counted = async function* (source: AsyncIterable<Uint8Array>) {
      for await (const chunk of source) {
        bytes += chunk.length;
        yield chunk;
      }
    };
    try {
      const usage = await sumBatchUsageStream(counted(answer.body));
      this.options.onFileBytes?.('billing', 'complete', bytes);
      return usage;
    } catch (error) {
      this.options.onFileBytes?.('billing', 'failed', bytes);
      throw error;
    } finally {
      answer.body.destroy();
    }
  }

  /** Whether the batch's stored record is marked billed (by another look, since it was read). */
  private async billedSince(record: HeldRecord): Promise<boolean> {
    return (await this.options.store.get(record.id))?.billed === true;
  }

  /** Marks the batch's record billed, for as long as it is remembered (not its claim's TTL). */
  private async markBilled(id: string): Promise<void> {
    const { store, ttlMs } = this.options;
    try {
      const latest = await store.get(id);
      if (latest) await store.put({ ...latest, billed: true }, ttlMs);
    } catch (error) {
      this.options.onError?.('marking a batch billed', error);
    }
  }
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
