import type { EdgeDialect } from '../http/edge-exchange';
import { OPENAI_DIALECT } from '../http/openai-dialect';
import { selfEndingEventRelay } from '../http/self-ending-event-relay';
import { imageEditParts } from './image-edit-form';
import { checkedImageBody } from './image-request';
import { imageVariationParts } from './image-variation-form';

/** OpenAI's image generation: JSON in, JSON out (or its events with `stream: true`). */
export const IMAGES_DIALECT: EdgeDialect = {
  ...OPENAI_DIALECT,
  canonicalBody: checkedImageBody,
  openStream: selfEndingEventRelay,
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
