import type { TokenCounts } from '@aigw/budget-core';
import { estimatePromptTokensUpperBound, type GatewayRequest } from '@aigw/contracts/data-plane';

/**
 * The most output tokens one image of gpt-image-1 bills at each quality: its largest size's
 * (1024x1536) count in OpenAI's table (low 408, medium 1584, high 6240); `auto` or unset may
 * be high.
 */
export const IMAGE_OUTPUT_TOKENS: Readonly<Record<string, number>> = {
  low: 408,
  medium: 1584,
  high: 6240,
};

/**
 * What an image generation may cost at most: `n` images as asked (for per-image prices),
 * the prompt's tokens, and each image's output tokens at its quality's largest size.
 */
export function imageHoldCounts(request: GatewayRequest): TokenCounts {
  const { body } = request;
  const images = typeof body.n === 'number' && body.n >= 1 ? body.n : 1;
  const quality = typeof body.quality === 'string' ? body.quality : '';
  const perImage = Object.hasOwn(IMAGE_OUTPUT_TOKENS, quality)
    ? IMAGE_OUTPUT_TOKENS[quality]
    : IMAGE_OUTPUT_TOKENS.high;
  const variant = [body.quality, body.size].filter(
    (part): part is string => typeof part === 'string' && part !== '',
  );
  return {
    inputTokens: estimatePromptTokensUpperBound(body),
    outputTokens: images * perImage,
    images,
    ...(variant.length > 0 ? { imageVariant: variant.join('/') } : {}),
  };
}
