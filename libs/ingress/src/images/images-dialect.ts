import type { EdgeDialect } from '../http/edge-exchange';
import { OPENAI_DIALECT } from '../http/openai-dialect';
import { imageEditParts } from './image-edit-form';
import { checkedImageBody } from './image-request';

/** OpenAI's image generation: JSON in and out, checked first, relayed as it came. */
export const IMAGES_DIALECT: EdgeDialect = { ...OPENAI_DIALECT, canonicalBody: checkedImageBody };

/** OpenAI's image edits: a form in (its fields the body, its files the uploads), JSON out. */
export const IMAGE_EDITS_DIALECT: EdgeDialect = {
  ...OPENAI_DIALECT,
  canonicalBody: (form) => imageEditParts(form).body,
  withState: (request, form) => ({ ...request, uploads: imageEditParts(form).uploads }),
};
