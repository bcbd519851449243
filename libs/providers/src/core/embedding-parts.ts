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
import { EMBEDDINGS_EXPECTED, type EmbeddingAsk } from './embedding-input';
import { embeddingVectors } from './embedding-vectors';
import { embeddingList } from './openai-output';
import { servedByTarget } from './openai-wire';
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

/** The request's inputs, at most MAX_EMBEDDING_INPUTS of them (else the 400 naming input). */
export function boundedEmbeddingInputs(ask: EmbeddingAsk): readonly string[] {
  if (ask.inputs.length > MAX_EMBEDDING_INPUTS) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `input may hold at most ${MAX_EMBEDDING_INPUTS} texts, not ${ask.inputs.length}`,
      { param: 'input' },
    );
  }
  return ask.inputs;
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
  const inputs = boundedEmbeddingInputs(ask);
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
  if (!vectors) throw badResponse(target.backendName, EMBEDDINGS_EXPECTED);
  const usage = summedEmbeddingUsage(parts);
  return {
    kind: 'json',
    status: 200,
    body: embeddingList(target.model, vectors, usage, ask.encoding),
    usage,
    servedBy: servedByTarget(call),
  };
}
