import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { countTokens } from './tokenizer';
import { sumTokens } from './usage';

/** The texts of an OpenAI embeddings request; Gemini and Cohere take text only, not token ids. */
export function embeddingInputs(body: JsonObject): string[] {
  const input = body.input;
  const inputs = typeof input === 'string' ? [input] : input;
  if (
    !Array.isArray(inputs) ||
    inputs.length === 0 ||
    !inputs.every((i) => typeof i === 'string')
  ) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      'input must be a string or a non-empty array of strings for this backend',
      { param: 'input' },
    );
  }
  return inputs;
}

/** The client's `dimensions`, if any; anything but a positive whole number is its 400. */
export function requestedDimensions(body: JsonObject): number | undefined {
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

/** How the client wants vectors: OpenAI's `encoding_format` (the edge accepts only these two). */
export type EmbeddingEncoding = 'float' | 'base64';

export function requestedEncoding(body: JsonObject): EmbeddingEncoding {
  return body.encoding_format === 'base64' ? 'base64' : 'float';
}

/** What an OpenAI embeddings request asks of a backend that builds the answer itself. */
export interface EmbeddingAsk {
  readonly inputs: string[];
  readonly dimensions: number | undefined;
  readonly encoding: EmbeddingEncoding;
}

/** The ask of an embeddings body; a bad `input` or `dimensions` is its 400. */
export function embeddingAsk(body: JsonObject): EmbeddingAsk {
  return {
    inputs: embeddingInputs(body),
    dimensions: requestedDimensions(body),
    encoding: requestedEncoding(body),
  };
}

/** What a translated embeddings answer must hold, for the bad-response message. */
export const EMBEDDINGS_EXPECTED =
  'a body without one embedding per input, all numbers of one size';

/** Usage of embedding inputs a provider reported no counts for: our tokenizer's estimate. */
export function estimatedEmbeddingUsage(inputs: readonly string[]): TokenUsage {
  const inputTokens = inputs.reduce((sum, text) => sumTokens(sum, countTokens(text)), 0);
  return { inputTokens, outputTokens: 0, cachedInputTokens: 0, source: 'estimated' };
}
