import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { estimatedEmbeddingUsage, type EmbeddingAsk } from '../core/embedding-input';
import { embeddingVectors } from '../core/embedding-vectors';
import { isJsonObject } from '../core/json-shape';
import { embeddingList } from '../core/openai-output';
import { cohereUsage } from './cohere-response';

/**
 * The v2 /embed body. Cohere's v3+ embedding models require `input_type`: a client may
 * pass it through (a Cohere extension of the OpenAI body), else texts are documents.
 */
export function toCohereEmbedRequest(
  model: string,
  ask: EmbeddingAsk,
  body: JsonObject,
): JsonObject {
  const { inputs, dimensions } = ask;
  return {
    model,
    texts: inputs,
    input_type: typeof body.input_type === 'string' ? body.input_type : 'search_document',
    embedding_types: ['float'],
    ...(dimensions === undefined ? {} : { output_dimension: dimensions }),
  };
}

/**
 * /embed's answer as OpenAI's embeddings list; undefined unless it holds one float
 * vector per input, all of one size.
 */
export function fromCohereEmbeddings(
  response: JsonObject,
  ask: EmbeddingAsk,
  model: string,
): { body: JsonObject; usage: TokenUsage } | undefined {
  const { inputs, dimensions, encoding } = ask;
  const floats = isJsonObject(response.embeddings) ? response.embeddings.float : undefined;
  const vectors = embeddingVectors(floats, inputs.length, dimensions);
  if (!vectors) return undefined;
  // What /embed billed, else (no usable `meta`) our tokenizer's estimate of the texts.
  const usage = cohereUsage(response.meta) ?? estimatedEmbeddingUsage(inputs);
  return { body: embeddingList(model, vectors, usage, encoding), usage };
}
