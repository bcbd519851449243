import type { HeldRecord } from '../../batches/held-objects';

// What a Gemini file named by `fileData.fileUri` costs a call as input. The call's body
// names the file, not its contents: held at nothing, an hour of video (~1M tokens) passed
// a nearly spent budget. The gateway cannot count a video's frames or an audio's seconds
// itself (it never holds the bytes, and the rates are the model's), so it asks the holding
// backend's countTokens, as Google documents for files: free, exact for that model, once
// per file and model (kept with the file's record, so every gateway instance reuses it).
// A count not given in COUNT_WAIT_MS (the call waits for it) falls back to a bound from
// the file's metadata, and is counted in ai_gateway_gemini_file_count_failed_total.

/** How long a call waits for a file's first count before it is held by the fallback. */
export const COUNT_WAIT_MS = 3_000;

/**
 * A second of video at most: a frame a second at up to 280 tokens (Gemini 3's high media
 * resolution; 258 on Gemini 2.5) and 32 tokens a second of its sound. The fallback for a
 * video whose count failed, from its `videoMetadata.videoDuration`.
 */
export const VIDEO_TOKENS_PER_SECOND = 312;

/** Why a file's count was not given (a fixed set, a metric's label). */
export type FileCountFailure = 'timeout' | 'error' | 'bad_answer';

/** A file's count for a model, as kept with its record. */
export type GeminiFileCount = NonNullable<HeldRecord['geminiTokens']>;

export interface GeminiFileTokensOptions {
  /** The backend's countTokens answer for the file (GeminiFileCalls.countTokens'). */
  count(record: HeldRecord, model: string): Promise<{ readonly body: Buffer }>;
  /** Keeps the count with the file's record as it is when the count is given. */
  remember(record: HeldRecord, tokens: GeminiFileCount): Promise<void>;
  onFailed?: (reason: FileCountFailure) => void;
  onError?: (what: string, error: unknown) => void;
  waitMs?: number;
}

/** A file's tokens: counted once per model at its backend, the fallback when that fails. */
export class GeminiFileTokens {
  /** Counts under way, by file and model: concurrent first uses ask the backend once. */
  private readonly pending = new Map<string, Promise<number | FileCountFailure>>();

  constructor(private readonly options: GeminiFileTokensOptions) {}

  /** The tokens `record`'s file costs a call to `model` each time it names it. */
  async of(record: HeldRecord, model: string): Promise<number> {
    const known = record.geminiTokens;
    if (known && known.model === model) return known.tokens;
    const counted = await this.counted(record, model);
    if (typeof counted === 'number') return counted;
    this.options.onFailed?.(counted);
    return fallbackTokens(record);
  }

  private counted(record: HeldRecord, model: string): Promise<number | FileCountFailure> {
    const key = `${record.id}\n${model}`;
    let count = this.pending.get(key);
    if (!count) {
      count = this.ask(record, model).finally(() => this.pending.delete(key));
      this.pending.set(key, count);
    }
    return withinWait(count, this.options.waitMs ?? COUNT_WAIT_MS);
  }

  /** The backend's count, remembered with the file (a late answer still is). */
  private async ask(record: HeldRecord, model: string): Promise<number | FileCountFailure> {
    let tokens: number | undefined;
    try {
      tokens = totalTokensIn((await this.options.count(record, model)).body);
    } catch {
      return 'error';
    }
    if (tokens === undefined) return 'bad_answer';
    try {
      await this.options.remember(record, { model, tokens });
    } catch (error) {
      // Counted again at the next use: nothing lost but a free call.
      this.options.onError?.(`keeping the token count of file ${record.id}`, error);
    }
    return tokens;
  }
}

async function withinWait(
  count: Promise<number | FileCountFailure>,
  waitMs: number,
): Promise<number | FileCountFailure> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<FileCountFailure>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), waitMs);
  });
  try {
    return await Promise.race([count, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** countTokens' `totalTokens` (an int32; proto3 JSON may write it as a string), if whole. */
function totalTokensIn(body: Buffer): number | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const total = (parsed as { totalTokens?: unknown } | null)?.totalTokens;
  const tokens = typeof total === 'string' && /^\d{1,10}$/.test(total) ? Number(total) : total;
  return typeof tokens === 'number' && Number.isSafeInteger(tokens) && tokens >= 0
    ? tokens
    : undefined;
}

/**
 * Without the backend's count: a video by its length (VIDEO_TOKENS_PER_SECOND), as Google
 * describes it once processed; any other file at nothing, as before the count existed. The
 * hold is a guard, not the bill (the call's usage is charged in full), and a file's bytes
 * are no bound worth holding (a minute of mp3 is ~1 MB for 1,920 tokens): refusing every
 * call naming a file while countTokens is down would fail more than the hold protects.
 */
export function fallbackTokens(record: HeldRecord): number {
  const video = record.object.videoMetadata;
  const duration =
    typeof video === 'object' && video !== null
      ? (video as { videoDuration?: unknown }).videoDuration
      : undefined;
  // A google.protobuf.Duration in JSON: seconds with an `s` ("1.5s").
  const seconds =
    typeof duration === 'string' && /^\d{1,9}(\.\d{1,9})?s$/.test(duration)
      ? Number(duration.slice(0, -1))
      : 0;
  return Math.ceil(seconds * VIDEO_TOKENS_PER_SECOND);
}
