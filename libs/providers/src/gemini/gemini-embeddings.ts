import type { JsonObject } from '@aigw/contracts/data-plane';
import { estimatedEmbeddingUsage, type EmbeddingAsk } from '../core/embedding-input';
import {
  embeddingBatches,
  type EmbeddingBatch,
  type EmbeddingCall,
  type EmbeddingPart,
} from '../core/embedding-parts';
import { embeddingVectors, unitVectors } from '../core/embedding-vectors';
import { isJsonObject } from '../core/json-shape';
import { valueAt, type EmbeddingExtras } from '../core/provider-extras';

/** batchEmbedContents refuses more than 100 requests in one call (400 INVALID_ARGUMENT). */
const GEMINI_EMBEDDINGS_PER_CALL = 100;

/**
 * The batchEmbedContents bodies: one request per input, each naming the model, with the
 * input's taskType and title where a Gemini client gave them (provider_extras), at most
 * GEMINI_EMBEDDINGS_PER_CALL inputs a call.
 */
export function toGeminiEmbedCalls(
  modelPath: string,
  ask: EmbeddingAsk,
  extras: EmbeddingExtras = {},
): EmbeddingCall[] {
  const size = ask.dimensions === undefined ? {} : { outputDimensionality: ask.dimensions };
  return embeddingBatches(ask, GEMINI_EMBEDDINGS_PER_CALL).map((batch) => ({
    batch,
    body: {
      requests: batch.texts.map((text, offset) => {
        const taskType = valueAt(extras.taskType, batch.start + offset);
        const title = valueAt(extras.title, batch.start + offset);
        return {
          model: modelPath,
          content: { parts: [{ text }] },
          ...size,
          ...(taskType === undefined ? {} : { taskType }),
          ...(title === undefined ? {} : { title }),
        };
      }),
    },
  }));
}

/**
 * One batchEmbedContents answer read: one `values` vector per input of its batch, all of
 * one size, scaled to unit length when a size was asked (unitVectors); undefined for
 * anything else. Gemini reports no token counts for embeddings, so usage is our
 * tokenizer's estimate.
 */
export function readGeminiEmbedPart(
  response: JsonObject,
  batch: EmbeddingBatch,
  dimensions: number | undefined,
): EmbeddingPart | undefined {
  const embeddings = Array.isArray(response.embeddings) ? response.embeddings : undefined;
  const values = embeddings?.map((embedding) =>
    isJsonObject(embedding) ? embedding.values : undefined,
  );
  const vectors = embeddingVectors(values, batch.texts.length, dimensions);
  if (!vectors) return undefined;
  return {
    vectors: dimensions === undefined ? vectors : unitVectors(vectors),
    usage: estimatedEmbeddingUsage(batch.texts),
  };
}
