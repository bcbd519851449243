import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { countTokens } from '../core/tokenizer';
import { isObject } from './cohere-json';
import { cohereUsage } from './cohere-response';

/** The client's `dimensions`, if any; anything but a positive whole number is its 400. */
export function cohereDimensions(body: JsonObject): number | undefined {
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

/**
 * The v2 /embed body. Cohere's v3+ embedding models require `input_type`: a client may
 * pass it through (a Cohere extension of the OpenAI body), else texts are documents.
 */
export function toCohereEmbedRequest(
  model: string,
  inputs: string[],
  body: JsonObject,
  dimensions: number | undefined,
): JsonObject {
  return {
    model,
    texts: inputs,
    input_type: typeof body.input_type === 'string' ? body.input_type : 'search_document',
    embedding_types: ['float'],
    ...(dimensions === undefined ? {} : { output_dimension: dimensions }),
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
 * The float vectors of an /embed answer, one per input, all of one size (the size
 * asked for, if any); undefined if the answer is anything else.
 */
function vectorsOf(
  response: JsonObject,
  inputCount: number,
  dimensions: number | undefined,
): number[][] | undefined {
  const vectors = isObject(response.embeddings) ? response.embeddings.float : undefined;
  if (!Array.isArray(vectors) || vectors.length !== inputCount) return undefined;
  if (!vectors.every(isVector)) return undefined;
  const size = dimensions ?? vectors[0].length;
  return vectors.every((vector) => vector.length === size) ? vectors : undefined;
}

/** What /embed billed, else (no usable `meta`) our tokenizer's estimate of the texts. */
function embedUsage(response: JsonObject, inputs: string[]): TokenUsage {
  const reported = cohereUsage(response.meta);
  if (reported) return reported;
  const inputTokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
  return { inputTokens, outputTokens: 0, cachedInputTokens: 0, source: 'estimated' };
}

/** /embed's answer as OpenAI's embeddings list; undefined if it is not one. */
export function fromCohereEmbeddings(
  response: JsonObject,
  inputs: string[],
  model: string,
  dimensions: number | undefined,
): { body: JsonObject; usage: TokenUsage } | undefined {
  const vectors = vectorsOf(response, inputs.length, dimensions);
  if (!vectors) return undefined;
  const usage = embedUsage(response, inputs);
  return {
    body: {
      object: 'list',
      model,
      data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
      usage: { prompt_tokens: usage.inputTokens, total_tokens: usage.inputTokens },
    },
    usage,
  };
}
