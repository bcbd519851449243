import type { GatewayAnswer, JsonObject, ServedBy, TokenUsage } from '@aigw/contracts/data-plane';

/** When an entry was stored (epoch ms), for a client's `max-age`; older entries lack it. */
interface Stored {
  readonly storedAt?: number;
}

/** One answer as the cache keeps it: the canonical (OpenAI) body, or a stream's chunks. */
export type CachedAnswer = Stored &
  (
    | {
        readonly v: 1;
        readonly kind: 'json';
        readonly status: number;
        readonly body: JsonObject;
        readonly usage: TokenUsage;
        readonly servedBy: ServedBy;
      }
    | {
        readonly v: 1;
        readonly kind: 'stream';
        readonly status: number;
        readonly chunks: readonly JsonObject[];
        readonly usage: TokenUsage;
        readonly servedBy: ServedBy;
      }
  );

/** Whether a finished stream is whole: some choice said why it stopped. */
export function streamCompleted(chunks: readonly JsonObject[]): boolean {
  return chunks.some(
    (chunk) =>
      Array.isArray(chunk.choices) &&
      chunk.choices.some((choice: unknown) => {
        const reason = (choice as JsonObject | null)?.finish_reason;
        return typeof reason === 'string' && reason.length > 0;
      }),
  );
}

/**
 * Whether some choice was withheld by a content filter (the provider's, or the gateway's
 * responseValidation): such an answer is not kept, so the next call gets a fresh one.
 */
export function contentFiltered(choicesOrChunks: readonly unknown[], inChunks: boolean): boolean {
  const filtered = (choices: unknown) =>
    Array.isArray(choices) &&
    choices.some((choice) => (choice as JsonObject | null)?.finish_reason === 'content_filter');
  return inChunks
    ? choicesOrChunks.some((chunk) => filtered((chunk as JsonObject | null)?.choices))
    : filtered(choicesOrChunks);
}

export function encodeCachedAnswer(answer: CachedAnswer): string {
  return JSON.stringify(answer);
}

/** An entry written by another version, or damaged, reads as a miss. */
export function decodeCachedAnswer(text: string): CachedAnswer | undefined {
  try {
    const value = JSON.parse(text) as Partial<CachedAnswer> | null;
    if (!value || value.v !== 1 || !value.usage || !value.servedBy) return undefined;
    if (value.kind === 'json' && value.body && typeof value.body === 'object') {
      return value as CachedAnswer;
    }
    if (value.kind === 'stream' && Array.isArray(value.chunks)) return value as CachedAnswer;
    return undefined;
  } catch {
    return undefined;
  }
}

/** The cached answer as the edge serves any answer: a body, or a replayed stream. */
export function replayCachedAnswer(entry: CachedAnswer): GatewayAnswer {
  if (entry.kind === 'json') {
    return {
      kind: 'json',
      status: entry.status,
      body: entry.body,
      usage: entry.usage,
      servedBy: entry.servedBy,
    };
  }
  const chunks = entry.chunks;
  return {
    kind: 'stream',
    status: entry.status,
    events: (async function* () {
      yield* chunks;
    })(),
    usage: Promise.resolve(entry.usage),
    servedBy: entry.servedBy,
  };
}
