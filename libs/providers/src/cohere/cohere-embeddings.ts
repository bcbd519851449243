import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { cohereUsage } from './cohere-response';

/**
 * The v2 /embed body. Cohere's v3+ embedding models require `input_type`: a client may
 * pass it through (a Cohere extension of the OpenAI body), else texts are documents.
 */
export function toCohereEmbedRequest(
  model: string,
  inputs: string[],
  body: JsonObject,
): JsonObject {
  return {
    model,
    texts: inputs,
    input_type: typeof body.input_type === 'string' ? body.input_type : 'search_document',
    embedding_types: ['float'],
    ...(typeof body.dimensions === 'number' ? { output_dimension: body.dimensions } : {}),
  };
}

/** /embed's answer as OpenAI's embeddings list; undefined if it is not one. */
export function fromCohereEmbeddings(
  response: JsonObject,
  inputs: string[],
  model: string,
): { body: JsonObject; usage: TokenUsage } | undefined {
  const vectors = (response.embeddings as JsonObject | undefined)?.float;
  if (!Array.isArray(vectors) || vectors.length !== inputs.length) return undefined;
  const usage = cohereUsage(response.meta ?? {});
  if (!usage) return undefined;
  return {
    body: {
      object: 'list',
      model,
      data: vectors.map((embedding: unknown, index) => ({ object: 'embedding', index, embedding })),
      usage: { prompt_tokens: usage.inputTokens, total_tokens: usage.inputTokens },
    },
    usage,
  };
}
