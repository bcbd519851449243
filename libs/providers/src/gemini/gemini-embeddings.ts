import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { estimatedEmbeddingUsage, type EmbeddingAsk } from '../core/embedding-input';
import { embeddingVectors } from '../core/embedding-vectors';
import { isJsonObject } from '../core/json-shape';
import { embeddingList } from '../core/openai-output';

/** The batchEmbedContents body: one request per input, each naming the model. */
export function toGeminiEmbedRequest(modelPath: string, ask: EmbeddingAsk): JsonObject {
  const { inputs, dimensions } = ask;
  const size = dimensions === undefined ? {} : { outputDimensionality: dimensions };
  return {
    requests: inputs.map((text) => ({
      model: modelPath,
      content: { parts: [{ text }] },
      ...size,
    })),
  };
}

/**
 * batchEmbedContents' answer as OpenAI's embeddings list; undefined unless it holds one
 * `values` vector per input, all of one size. Gemini reports no token counts for
 * embeddings, so usage is our tokenizer's estimate.
 */
export function fromGeminiEmbeddings(
  response: JsonObject,
  ask: EmbeddingAsk,
  model: string,
): { body: JsonObject; usage: TokenUsage } | undefined {
  const { inputs, dimensions, encoding } = ask;
  const embeddings = Array.isArray(response.embeddings) ? response.embeddings : undefined;
  const values = embeddings?.map((embedding) =>
    isJsonObject(embedding) ? embedding.values : undefined,
  );
  const vectors = embeddingVectors(values, inputs.length, dimensions);
  if (!vectors) return undefined;
  const usage = estimatedEmbeddingUsage(inputs);
  return { body: embeddingList(model, vectors, usage, encoding), usage };
}
