import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';

/** The most partial images a gpt-image stream sends before its image. */
export const MAX_PARTIAL_IMAGES = 3;

/** The most images OpenAI makes in one call. */
export const MAX_IMAGES = 10;

function invalid(message: string, param: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

/**
 * Checks an image generation body before it is routed: a prompt, `n` of 1-10 (the hold
 * and the per-image bill read it), `size` and `quality` as strings (their values differ by
 * model: the backend checks them), `response_format` url or b64_json, and streaming
 * (`checkStreaming`). Other fields pass through.
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
  checkStreaming(json);
  return json;
}

/**
 * A gpt-image stream (`stream: true`) as OpenAI takes it: one image (OpenAI refuses
 * streaming with `n` above 1), and `partial_images` a whole number of 0-3, which only a
 * stream sends (0 or unset without one).
 */
function checkStreaming(json: JsonObject): void {
  const stream = json.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    throw invalid("'stream' must be a boolean", 'stream');
  }
  const partial = json.partial_images;
  if (partial !== undefined && partial !== null) {
    if (
      typeof partial !== 'number' ||
      !Number.isInteger(partial) ||
      partial < 0 ||
      partial > MAX_PARTIAL_IMAGES
    ) {
      throw invalid(
        `'partial_images' must be a whole number from 0 to ${MAX_PARTIAL_IMAGES}`,
        'partial_images',
      );
    }
    if (partial > 0 && stream !== true) {
      throw invalid("'partial_images' needs 'stream': true", 'partial_images');
    }
  }
  if (stream === true && typeof json.n === 'number' && json.n > 1) {
    throw invalid("Streaming makes one image: leave 'n' at 1 with 'stream': true", 'n');
  }
}
