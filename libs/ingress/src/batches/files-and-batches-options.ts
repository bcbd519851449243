import type { GatewayConfig } from '@aigw/config';
import type { TokenUsageRecorded } from '@aigw/contracts';
import type { UploadSpool } from '../forms/upload-spool';
import type { BudgetAdmission } from '../admission/budget-admission';
import type { BatchHolds } from './batch-holds';
import type { HeldKind } from './gateway-ids';
import type { HeldObjectCalls } from './held-api';
import type { HeldObjectStore, HeldRecord } from './held-objects';
import type { StoreAway } from './store-away-log';
import type { PdfUncounted } from './upload-pdf-pages';
import type { GeminiFileCalls, GeminiUploadOutcome } from '../gemini/files/gemini-files';
import type { FileCountFailure } from '../gemini/files/gemini-file-tokens';

/**
 * What made the gateway bill a batch: a client's look, the sweeper, a download, or a
 * delete of its output file (billed first).
 */
export type BillingTrigger = 'client_poll' | 'sweeper' | 'content' | 'delete';

/**
 * What a look at a batch found: billed by this look; still running; finished with nothing
 * for this look to bill (no output, or billed or being billed elsewhere); or finished and
 * its billing failed (the claim given back: the next look tries again); or finished with
 * its output file gone from the backend (never billed: no look tries again).
 */
export type BatchState = 'billed' | 'in_progress' | 'finished' | 'failed' | 'output_gone';

/** Why a file's bytes were streamed: a batch file to a client or to bill its batch, or a client's upload. */
export type FileBytesUse = 'download' | 'billing' | 'upload';
/**
 * How that stream ended: read whole; cut by the client hanging up; failed (the backend, a
 * downloaded line too long); refused (an upload's line, field or size: the client's error).
 */
export type FileBytesOutcome = 'complete' | 'aborted' | 'failed' | 'refused';

/** A finished batch's usage, as recorded. */
export interface BatchSettled {
  readonly batch: HeldRecord;
  readonly trigger: BillingTrigger;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** The part of `inputTokens` read from the prompt cache. */
  readonly cachedInputTokens: number;
  readonly dollars: number;
}

/** A batch seen in a final status for the first time: how it ended, and its requests. */
export interface BatchFinished {
  /** completed, failed, expired or cancelled. */
  readonly status: string;
  /** Its requests that got an answer, and those that failed (its `request_counts`). */
  readonly completedRequests: number;
  readonly failedRequests: number;
}

/**
 * A batch its backend made that the gateway could not remember (its store away), and
 * whether cancelling it there worked: if not, it runs on, billed to no one, until an
 * operator cancels it by hand with the backend's own batch id.
 */
export interface UnkeptBatch {
  readonly route: string;
  readonly backend: string;
  /** The batch's id at its backend (the client never saw it). */
  readonly backendBatchId: string;
  readonly cancelled: boolean;
  /** Why it could not be remembered. */
  readonly storeError: unknown;
  /** Why cancelling it failed, when it did. */
  readonly cancelError?: unknown;
}

export interface FilesAndBatchesOptions {
  readonly config: () => GatewayConfig;
  readonly upstream: HeldObjectCalls;
  readonly store: HeldObjectStore;
  /** How long the gateway remembers a file or batch (and who owns it). */
  readonly ttlMs: number;
  /** The batch price as a share of the synchronous one (0.5: OpenAI's 50% discount). */
  readonly priceFactor: number;
  /** Checks the owner's budgets before a batch is created; absent, every batch is. */
  readonly admission?: BudgetAdmission;
  /** Holds a batch's estimated cost until it is billed; absent, nothing is held. */
  readonly holds?: BatchHolds;
  /**
   * `POST /files`'s body limit (AI_GATEWAY_MAX_FILE_BYTES): an upload streams (or waits on
   * disk for the fields after it), so it may be larger than the app's body limit, which
   * still bounds a batch line. Absent, the app's.
   */
  readonly maxFileBytes?: number;
  /**
   * Where a file sent before its `purpose` field waits for it, on disk (the data
   * directory's `upload-spool`). Absent, one under the OS's temporary directory.
   */
  readonly uploadSpool?: UploadSpool;
  /** Output tokens a batch line that sets no max_tokens is held for (4096). */
  readonly defaultMaxOutputTokens?: number;
  /** Publishes a finished batch's usage event (budgets and analytics). */
  readonly publish: (event: TokenUsageRecorded) => void;
  /**
   * Set when answers wait for their record (AI_GATEWAY_ANSWER_AFTER_RECORD=on): the look
   * that billed a batch answers once this resolves (its usage event durable). It must not
   * reject: that would give the billing claim back and bill the batch twice.
   */
  readonly untilRecorded?: () => Promise<void>;
  /** A batch upload's prompt redaction masked `tally` per detector on `route` (metrics). */
  readonly onRedacted?: (route: string, tally: ReadonlyMap<string, number>) => void;
  /** One per request: which kind, what was done, and how it ended (metrics). */
  readonly onAction?: (kind: HeldKind, action: string, outcome: string) => void;
  readonly onSettled?: (settled: BatchSettled) => void;
  /** A batch seen finished, once per batch across looks and replicas (metrics). */
  readonly onFinished?: (finished: BatchFinished) => void;
  /**
   * How long a file download waits on a client that takes nothing before its connection is
   * dropped (CLIENT_SEND_TIMEOUT_MS, 60 s, as every streamed answer); tests shorten it.
   */
  readonly clientSendTimeoutMs?: number;
  /** A file streamed from its backend or to it (an upload): `bytes` read, however it ended (metrics). */
  readonly onFileBytes?: (use: FileBytesUse, outcome: FileBytesOutcome, bytes: number) => void;
  /**
   * A PDF uploaded for a model let go uncounted (too large, or past what all uploads being
   * counted may keep in memory): calls naming it are held at its size (metrics).
   */
  readonly onUploadPdfUncounted?: (reason: PdfUncounted) => void;
  /**
   * Gemini backends' Files API (the all-in-one gateway, which holds their keys): with it
   * the Gemini edge serves Google's Files API, its files kept in `store` as these are.
   */
  readonly geminiUpstream?: GeminiFileCalls;
  /** A Gemini upload finalized, or an upload request refused or failed (metrics). */
  readonly onGeminiUpload?: (outcome: GeminiUploadOutcome) => void;
  /** A Gemini file's token count its backend did not give (the hold's fallback was used). */
  readonly onGeminiFileCountFailed?: (reason: FileCountFailure) => void;
  /** A created batch the gateway could not remember, cancelled at its backend or not (logs). */
  readonly onUnkeptBatch?: (unkept: UnkeptBatch) => void;
  /** A call answered 503 for its store of records (logs: its cause, once per call). */
  readonly onStoreAway?: (away: StoreAway) => void;
  /** A failure the client is not told of (settling a batch): logged, without secrets. */
  readonly onError?: (what: string, error: unknown) => void;
  readonly now?: () => number;
}
