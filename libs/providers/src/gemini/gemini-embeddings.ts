import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { countTokens } from '../core/tokenizer';
import { isObject } from './gemini-json';

/** The client's `dimensions`, if any; anything but a positive whole number is its 400. */
export function geminiDimensions(body: JsonObject): number | undefined {
  const dimensions = body.dimensions;
  if (dimensions === undefined || dimensions === null) return undefined;
  if (typeof dimensions !== 'number' || !Number.isSafeInteger(dimensions) || dimensions < 1) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      'dimensions must be a positive integer',
      { param: 'dimensions' },
    );
  }
  return dimensions;
}

/** The batchEmbedContents body: one request per input, each naming the model. */
export function toGeminiEmbedRequest(
  modelPath: string,
  inputs: string[],
  dimensions: number | undefined,
): JsonObject {
  const size = dimensions === undefined ? {} : { outputDimensionality: dimensions };
  return {
    requests: inputs.map((text) => ({
      model: modelPath,
      content: { parts: [{ text }] },
      ...size,
    })),
  };
}

/** A non-empty list of finite numbers: what a client can store as a vector. */
function isVector(values: unknown): values is number[] {
  return (
    Array.isArray(values) &&
    values.length > 0 &&
    values.every((value) => typeof value === 'number' && Number.isFinite(value))
  );
}

/**
 * The vectors of a batchEmbedContents answer, one per input, all of one size (the
 * size asked for, if any); undefined if the answer is anything else.
 */
function vectorsOf(
  response: JsonObject,
  inputCount: number,
  dimensions: number | undefined,
): number[][] | undefined {
  const embeddings = response.embeddings;
  if (!Array.isArray(embeddings) || embeddings.length !== inputCount) return undefined;
  const vectors = embeddings.map((embedding) => (isObject(embedding) ? embedding.values : null));
  if (!vectors.every(isVector)) return undefined;
  const size = dimensions ?? vectors[0].length;
  return vectors.every((vector) => vector.length === size) ? vectors : undefined;
}

/**
 * batchEmbedContents' answer as OpenAI's embeddings list. Gemini reports no token
 * counts for embeddings, so usage is our tokenizer's estimate.
 */
export function fromGeminiEmbeddings(
  response: JsonObject,
  inputs: string[],
  model: string,
  dimensions: number | undefined,
): { body: JsonObject; usage: TokenUsage } | undefined {
  const vectors = vectorsOf(response, inputs.length, dimensions);
  if (!vectors) return undefined;
  const data = vectors.map((embedding, index) => ({ object: 'embedding', index, embedding }));
  const inputTokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
  const usage: TokenUsage = {
    inputTokens,
    outputTokens: 0,
    cachedInputTokens: 0,
    source: 'estimated',
  };
  return {
    body: {
      object: 'list',
      model,
      data,
      usage: { prompt_tokens: inputTokens, total_tokens: inputTokens },
    },
    usage,
  };
}
