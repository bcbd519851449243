import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { countTokens } from '../core/tokenizer';

/** The batchEmbedContents body: one request per input, each naming the model. */
export function toGeminiEmbedRequest(
  modelPath: string,
  inputs: string[],
  body: JsonObject,
): JsonObject {
  const dimensions =
    typeof body.dimensions === 'number' ? { outputDimensionality: body.dimensions } : {};
  return {
    requests: inputs.map((text) => ({
      model: modelPath,
      content: { parts: [{ text }] },
      ...dimensions,
    })),
  };
}

/**
 * batchEmbedContents' answer as OpenAI's embeddings list. Gemini reports no token
 * counts for embeddings, so usage is our tokenizer's estimate.
 */
export function fromGeminiEmbeddings(
  response: JsonObject,
  inputs: string[],
  model: string,
): { body: JsonObject; usage: TokenUsage } | undefined {
  const embeddings = response.embeddings;
  if (!Array.isArray(embeddings) || embeddings.length !== inputs.length) return undefined;
  const data = (embeddings as JsonObject[]).map((embedding, index) => ({
    object: 'embedding',
    index,
    embedding: embedding.values,
  }));
  if (data.some((item) => !Array.isArray(item.embedding))) return undefined;
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
