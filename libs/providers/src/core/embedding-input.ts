import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';

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
