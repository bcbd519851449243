import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';

/** The most images OpenAI makes in one call. */
export const MAX_IMAGES = 10;

function invalid(message: string, param: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

/**
 * Checks an image generation body before it is routed: a prompt, `n` of 1-10 (the hold
 * and the per-image bill read it), `size` and `quality` as strings (their values differ by
 * model: the backend checks them), `response_format` url or b64_json. Partial-image
 * streaming is a 400: images are relayed whole. Other fields pass through.
 */
export function checkedImageBody(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body; // the builder says so
  const json = body as JsonObject;
  if (typeof json.prompt !== 'string' || json.prompt.length === 0) {
    throw invalid("'prompt' must be a non-empty string", 'prompt');
  }
  const n = json.n;
  if (n !== undefined && n !== null) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_IMAGES) {
      throw invalid(`'n' must be a whole number from 1 to ${MAX_IMAGES}`, 'n');
    }
  }
  for (const field of ['size', 'quality', 'style', 'background', 'output_format']) {
    const value = json[field];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw invalid(`'${field}' must be a string`, field);
    }
  }
  const format = json.response_format;
  if (format !== undefined && format !== null && format !== 'url' && format !== 'b64_json') {
    throw invalid("'response_format' must be 'url' or 'b64_json'", 'response_format');
  }
  if (json.stream !== undefined && json.stream !== null && json.stream !== false) {
    throw invalid('This gateway relays images whole: leave stream unset', 'stream');
  }
  if (
    json.partial_images !== undefined &&
    json.partial_images !== null &&
    json.partial_images !== 0
  ) {
    throw invalid(
      'This gateway relays images whole: partial_images needs a stream',
      'partial_images',
    );
  }
  return json;
}
