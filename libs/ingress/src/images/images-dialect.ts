import type { EdgeDialect } from '../http/edge-exchange';
import { OPENAI_DIALECT } from '../http/openai-dialect';
import { checkedImageBody } from './image-request';

/** OpenAI's image generation: JSON in and out, checked first, relayed as it came. */
export const IMAGES_DIALECT: EdgeDialect = { ...OPENAI_DIALECT, canonicalBody: checkedImageBody };
