import type { JsonObject } from '@aigw/contracts/data-plane';
import { estimatedEmbeddingUsage, type EmbeddingAsk } from '../core/embedding-input';
import {
  embeddingBatches,
  type EmbeddingBatch,
  type EmbeddingCall,
  type EmbeddingPart,
} from '../core/embedding-parts';
import { embeddingVectors } from '../core/embedding-vectors';
import { isJsonObject } from '../core/json-shape';
import { cohereUsage } from './cohere-response';

/** /v2/embed refuses more than 96 texts in one call (400). */
const COHERE_EMBEDDINGS_PER_CALL = 96;

/**
 * The v2 /embed bodies, at most COHERE_EMBEDDINGS_PER_CALL texts each. Cohere's v3+
 * embedding models require `input_type`: a client may pass it through (a Cohere extension
 * of the OpenAI body), else texts are documents. OpenAI's `dimensions` is Cohere's
 * `output_dimension` (embed-v4 and later; Cohere refuses other models and sizes itself).
 * Cohere is asked for floats whatever `encoding_format` says: every Embed model serves
 * them, while its `base64` type (v3 and later) documents no byte layout; a client asking
 * for base64 gets the floats as OpenAI lays them out (embeddingList: little-endian float32).
 */
export function toCohereEmbedCalls(
  model: string,
  ask: EmbeddingAsk,
  body: JsonObject,
): EmbeddingCall[] {
  const inputType = typeof body.input_type === 'string' ? body.input_type : 'search_document';
  const size = ask.dimensions === undefined ? {} : { output_dimension: ask.dimensions };
  return embeddingBatches(ask, COHERE_EMBEDDINGS_PER_CALL).map((batch) => ({
    batch,
    body: {
      model,
      texts: batch.texts,
      input_type: inputType,
      embedding_types: ['float'],
      ...size,
    },
  }));
}

/**
 * One /embed answer read: one float vector per text of its batch, all of one size, and
 * what /embed billed (else, no usable `meta`, our tokenizer's estimate); undefined for
 * anything else.
 */
export function readCohereEmbedPart(
  response: JsonObject,
  batch: EmbeddingBatch,
  dimensions: number | undefined,
): EmbeddingPart | undefined {
  const floats = isJsonObject(response.embeddings) ? response.embeddings.float : undefined;
  const vectors = embeddingVectors(floats, batch.texts.length, dimensions);
  if (!vectors) return undefined;
  return { vectors, usage: cohereUsage(response.meta) ?? estimatedEmbeddingUsage(batch.texts) };
}
