import type { ServerResponse } from 'node:http';
import type { EdgeDialect, StreamRelay } from '../http/edge-exchange';
import { OPENAI_DIALECT } from '../http/openai-dialect';
import { SseWriter } from '../http/sse-writer';
import { imageEditParts } from './image-edit-form';
import { checkedImageBody } from './image-request';
import { imageVariationParts } from './image-variation-form';

/**
 * A gpt-image stream as OpenAI sends it: one `data:` event each (`*.partial_image`, then
 * `*.completed`), no `[DONE]` sentinel (the completed event ends it); a failure after the
 * first event is an OpenAI error event, so a cut stream never looks finished.
 */
function imageEventRelay(response: ServerResponse, headers: Record<string, string>): StreamRelay {
  const writer = new SseWriter(response);
  writer.start(headers);
  return {
    event: (event) => writer.event(event),
    end: async () => writer.close(),
    fail: (error) => writer.fail(error),
  };
}

/** OpenAI's image generation: JSON in, JSON out (or its events with `stream: true`). */
export const IMAGES_DIALECT: EdgeDialect = {
  ...OPENAI_DIALECT,
  canonicalBody: checkedImageBody,
  openStream: imageEventRelay,
};

/** OpenAI's image edits: a form in (its fields the body, its files the uploads), JSON out. */
export const IMAGE_EDITS_DIALECT: EdgeDialect = {
  ...IMAGES_DIALECT,
  canonicalBody: (form) => imageEditParts(form).body,
  withState: (request, form) => ({ ...request, uploads: imageEditParts(form).uploads }),
};

/** OpenAI's image variations (dall-e-2): a form with one PNG in, JSON out, never streamed. */
export const IMAGE_VARIATIONS_DIALECT: EdgeDialect = {
  ...OPENAI_DIALECT,
  canonicalBody: (form) => imageVariationParts(form).body,
  withState: (request, form) => ({ ...request, uploads: imageVariationParts(form).uploads }),
};
