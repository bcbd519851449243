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
 * The most image tokens gpt-image-1 bills for one image an edit sends. At low input
 * fidelity an image is scaled to fit 2048x2048, then its short side to 512, and billed 65
 * tokens plus 129 a 512px tile: 581 for the longest shape (4 tiles). High fidelity adds
 * 4,160 (square) or 6,240 (otherwise) tokens. `input_fidelity` unset may be high (later
 * gpt-image models always edit at high fidelity), so only an explicit `low` holds the less.
 */
export const INPUT_IMAGE_TOKENS = { low: 581, high: 581 + 6_240 } as const;

/**
 * The image output tokens OpenAI bills for each partial image a stream sends
 * (`partial_images`), beside the image's own.
 */
export const PARTIAL_IMAGE_TOKENS = 100;

/**
 * What an image generation may cost at most: `n` images as asked (for per-image prices),
 * the prompt's tokens, each image's output tokens at its quality's largest size and its
 * stream's partial images (as image output, `imageOutputPer1k` where the model has it), and an
 * edit's files (the mask too: an upper bound) at `INPUT_IMAGE_TOKENS` each, as image input.
 */
export function imageHoldCounts(request: GatewayRequest): TokenCounts {
  const { body } = request;
  const images = typeof body.n === 'number' && body.n >= 1 ? body.n : 1;
  const quality = typeof body.quality === 'string' ? body.quality : '';
  const partials = typeof body.partial_images === 'number' ? body.partial_images : 0;
  const perImage =
    (Object.hasOwn(IMAGE_OUTPUT_TOKENS, quality)
      ? IMAGE_OUTPUT_TOKENS[quality]
      : IMAGE_OUTPUT_TOKENS.high) +
    partials * PARTIAL_IMAGE_TOKENS;
  const variant = [body.quality, body.size].filter(
    (part): part is string => typeof part === 'string' && part !== '',
  );
  const fidelity = body.input_fidelity === 'low' ? 'low' : 'high';
  // A variation (dall-e-2) bills per image, never its input image's tokens.
  const sent = request.operation === 'image-variations' ? 0 : (request.uploads?.length ?? 0);
  const imageInput = sent * INPUT_IMAGE_TOKENS[fidelity];
  return {
    inputTokens: estimatePromptTokensUpperBound(body) + imageInput,
    ...(imageInput > 0 ? { imageInputTokens: imageInput } : {}),
    outputTokens: images * perImage,
    // All of it images, held at the image output price where the model has one.
    imageOutputTokens: images * perImage,
    images,
    ...(variant.length > 0 ? { imageVariant: variant.join('/') } : {}),
  };
}
