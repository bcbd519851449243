import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { estimatedEmbeddingUsage, type EmbeddingAsk } from '../core/embedding-input';
import { embeddingVectors } from '../core/embedding-vectors';
import { isJsonObject } from '../core/json-shape';
import { embeddingList } from '../core/openai-output';
import { valueAt, type EmbeddingExtras } from '../core/provider-extras';

/**
 * The batchEmbedContents body: one request per input, each naming the model, with the
 * input's taskType and title where a Gemini client gave them (provider_extras).
 */
export function toGeminiEmbedRequest(
  modelPath: string,
  ask: EmbeddingAsk,
  extras: EmbeddingExtras = {},
): JsonObject {
  const { inputs, dimensions } = ask;
  const size = dimensions === undefined ? {} : { outputDimensionality: dimensions };
  return {
    requests: inputs.map((text, index) => {
      const taskType = valueAt(extras.taskType, index);
      const title = valueAt(extras.title, index);
      return {
        model: modelPath,
        content: { parts: [{ text }] },
        ...size,
        ...(taskType === undefined ? {} : { taskType }),
        ...(title === undefined ? {} : { title }),
      };
    }),
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
