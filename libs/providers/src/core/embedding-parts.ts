// An embeddings request served in several upstream calls (Bedrock, Vertex, Gemini,
// Cohere): its bound, each call's part, and the one OpenAI-shaped answer the parts make.
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonAnswer,
  type JsonObject,
  type ProviderCall,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { mapBounded } from './bounded-map';
import { EMBEDDINGS_EXPECTED, type EmbeddingAsk } from './embedding-input';
import { embeddingVectors } from './embedding-vectors';
import { embeddingList } from './openai-output';
import { servedByTarget } from './openai-wire';
import { withSpentUsage } from './spent-usage';
import { badResponse } from './upstream-http';
import { sumTokens } from './usage';

/**
 * The most inputs one embeddings request may hold, as on OpenAI: a model that embeds one
 * text per call would otherwise make a longer list that many calls.
 */
export const MAX_EMBEDDING_INPUTS = 2048;

/** What one upstream call answered, read: one vector per text it embedded, and its usage. */
export interface EmbeddingPart {
  readonly vectors: number[][];
  readonly usage: TokenUsage;
}

/**
 * A request's inputs (texts, or token-id lists where the backend takes them), at most
 * MAX_EMBEDDING_INPUTS of them (else the 400 naming input).
 */
export function boundedEmbeddingInputs<T>(inputs: readonly T[]): readonly T[] {
  if (inputs.length > MAX_EMBEDDING_INPUTS) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `input may hold at most ${MAX_EMBEDDING_INPUTS} inputs, not ${inputs.length}`,
      { param: 'input' },
    );
  }
  return inputs;
}

/** One upstream call's share of an embeddings request: its texts and the first one's index. */
export interface EmbeddingBatch {
  readonly texts: readonly string[];
  readonly start: number;
}

/** One upstream call of an embeddings request: its body, and the inputs it embeds. */
export interface EmbeddingCall {
  readonly body: JsonObject;
  readonly batch: EmbeddingBatch;
}

/**
 * The request's inputs (bounded as above) in runs of at most `perCall`, in input order:
 * the calls a provider that caps the texts of one call (Gemini's batchEmbedContents 100,
 * Cohere's /v2/embed 96) needs, since OpenAI clients send up to 2048 at once.
 */
export function embeddingBatches(ask: EmbeddingAsk, perCall: number): EmbeddingBatch[] {
  const inputs = boundedEmbeddingInputs(ask.inputs);
  const batches: EmbeddingBatch[] = [];
  for (let start = 0; start < inputs.length; start += perCall) {
    batches.push({ texts: inputs.slice(start, start + perCall), start });
  }
  return batches;
}

/**
 * The usage of all calls: their input tokens added up, estimated if any part was; their
 * billed characters too where the provider counts them (Vertex's text-embedding models).
 */
export function summedEmbeddingUsage(parts: readonly EmbeddingPart[]): TokenUsage {
  const counted = parts.filter((part) => part.usage.characters !== undefined);
  return {
    inputTokens: sumTokens(...parts.map((part) => part.usage.inputTokens)),
    outputTokens: 0,
    cachedInputTokens: 0,
    ...(counted.length === 0
      ? {}
      : { characters: sumTokens(...counted.map((part) => part.usage.characters ?? 0)) }),
    source: parts.every((part) => part.usage.source === 'reported') ? 'reported' : 'estimated',
  };
}

/**
 * Every call's part, in the calls' order, with at most `limit` calls in flight. A failed
 * call fails the request and no further call is started, but the provider billed the
 * calls that answered: once every call in flight has ended, the failure carries their
 * usage (spent-usage), which metering records. Rejecting at once left the calls still
 * running unseen, and the answered ones unrecorded (a throttle at call 900 of 2048 Titan
 * calls lost 899 calls' usage, and the client's retry paid for them again).
 */
export async function embeddingPartsOf<T>(
  calls: readonly T[],
  limit: number,
  embed: (call: T) => Promise<EmbeddingPart>,
): Promise<EmbeddingPart[]> {
  const answered: EmbeddingPart[] = [];
  const running = new Set<Promise<void>>();
  const tracked = (call: T): Promise<EmbeddingPart> => {
    const part = embed(call).then((done) => {
      answered.push(done);
      return done;
    });
    const ended: Promise<void> = part.then(
      () => void running.delete(ended),
      () => void running.delete(ended),
    );
    running.add(ended);
    return part;
  };
  try {
    return await mapBounded(calls, limit, tracked);
  } catch (error) {
    await Promise.all(running);
    throw answered.length === 0 ? error : withSpentUsage(error, summedEmbeddingUsage(answered));
  }
}

/** The parts, in input order, as the client's embeddings list, or a bad-response error. */
export function embeddingPartsAnswer(
  call: ProviderCall,
  ask: EmbeddingAsk,
  parts: readonly EmbeddingPart[],
): JsonAnswer {
  const { target } = call;
  // Each call's vectors are of one size; across calls they must be too.
  const all = parts.flatMap((part) => part.vectors);
  const vectors = embeddingVectors(all, ask.inputs.length, ask.dimensions);
  const usage = summedEmbeddingUsage(parts);
  // Every call answered, and was billed, though the answers do not fit together.
  if (!vectors) throw withSpentUsage(badResponse(target.backendName, EMBEDDINGS_EXPECTED), usage);
  return {
    kind: 'json',
    status: 200,
    body: embeddingList(target.model, vectors, usage, ask.encoding),
    usage,
    servedBy: servedByTarget(call),
  };
}
