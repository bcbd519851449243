import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';

/** The model OpenAI moderates with when the request names none. */
export const DEFAULT_MODERATION_MODEL = 'omni-moderation-latest';

function invalid(message: string, param: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

const INPUT_SHAPE =
  "'input' must be a string, an array of strings, or an array of {type: 'text', text} and " +
  "{type: 'image_url', image_url: {url}} objects";

/**
 * Checks a moderation body as OpenAI does before it is routed: `input` a string, a
 * non-empty list of strings, or a non-empty multimodal list of text and image_url parts.
 * `model` may be left out, as OpenAI allows: it is then omni-moderation-latest (the name
 * the route must serve). Answers come whole: `stream` is a 400. Other fields pass through.
 */
export function checkedModerationBody(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body; // the builder says so
  const json = body as JsonObject;
  checkInput(json.input);
  if (json.stream !== undefined && json.stream !== null && json.stream !== false) {
    throw invalid('Moderations are answered whole: leave stream unset', 'stream');
  }
  return json.model === undefined || json.model === null
    ? { ...json, model: DEFAULT_MODERATION_MODEL }
    : json;
}

function checkInput(input: unknown): void {
  if (input === undefined || input === null) throw invalid("'input' is required", 'input');
  if (typeof input === 'string') return;
  if (!Array.isArray(input) || input.length === 0) throw invalid(INPUT_SHAPE, 'input');
  if (input.every((item) => typeof item === 'string')) return;
  input.forEach((item: unknown, index) => {
    if (!isPart(item)) throw invalid(INPUT_SHAPE, `input[${index}]`);
  });
}

function isPart(item: unknown): boolean {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return false;
  const part = item as JsonObject;
  if (part.type === 'text') return typeof part.text === 'string';
  if (part.type !== 'image_url') return false;
  const image = part.image_url as JsonObject | null | undefined;
  return !!image && typeof image === 'object' && typeof image.url === 'string';
}
