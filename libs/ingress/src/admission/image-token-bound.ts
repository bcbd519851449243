import {
  TOKENS_PER_IMAGE,
  type GatewayRequest,
  type PromptMedia,
} from '@aigw/contracts/data-plane';

// OpenAI's vision guide: most models bill an image by 512 px tiles (85 + 170 a tile, at
// most ~1,500 tokens, within the prompt estimate's TOKENS_PER_IMAGE), but gpt-4o-mini bills
// 2,833 + 5,667 a tile (its price per token is lower, its image cost the same as gpt-4o's),
// up to 8 tiles (768 x 2048 px after scaling), and the patch-billed minis count at most
// 1,536 patches of 32 px times their multiplier. Held at 1,600 tokens, one image on
// gpt-4o-mini bills 30 times its hold.
const GPT_4O_MINI_IMAGE_TOKENS = 2_833 + 8 * 5_667;
const MAX_PATCHES = 1_536;

// Anthropic's vision guide: Claude sees an image in 28 px patches, one token each. Up to
// Opus 4.6 it shrinks an image to 1,568 px a side and ~1.15 megapixels (~1,600 tokens,
// TOKENS_PER_IMAGE); from Opus 4.7 (and Sonnet 5, Haiku 5.5, the named later models) to
// 2,576 px and ~3.75 megapixels: 92 x 52 patches at 2,576 x 1,456. Bedrock and Vertex AI
// bill Claude the same.
const CLAUDE_HIGH_RESOLUTION_IMAGE_TOKENS = 92 * 52;

// Google's token guide: Gemini 1.5 and 2.x bill 258 tokens for an image of at most 384 px
// a side, else 258 a tile, a tile's side the image's shorter side / 1.5 (256 to 768 px),
// the image first fitted within 3,072 x 3,072. The most tiles: 12 x 2 (2,817 x 257 px).
// Gemini 3 bills an image by its media resolution, 1,120 tokens by default.
const GEMINI_TILED_IMAGE_TOKENS = 24 * 258;

// Pixtral (Mistral): an image of at most 1,024 px a side, a token a 16 px patch and a
// break token after each row of patches.
const PIXTRAL_IMAGE_TOKENS = 64 * 64 + 64;

// Mistral Small (from 3.1), Medium 3 and Magistral: an image of at most 1,540 px a side, 14
// px patches merged 2 x 2 (a token a 28 px square), a break token after each row: 55 x 55 + 55.
const MISTRAL_MERGED_IMAGE_TOKENS = 55 * 55 + 55;

// Cohere's image-inputs guide: at high detail (`auto` for an image past 768 px) an image is
// split into 512 px tiles, 12 at most, plus a thumbnail, 256 tokens each.
const COHERE_IMAGE_TOKENS = (12 + 1) * 256;

/** A model id of `names`, dated or not, alone or after a provider's prefix (`openai/`). */
function modelIds(names: string): RegExp {
  return new RegExp(`(^|[/:])(${names})(-\\d{4}-\\d{2}-\\d{2})?$`, 'i');
}

/**
 * Model ids that start with `names`, in any of their namings: after a provider's prefix
 * (`google/`, `models/`), Bedrock's (`anthropic.`, `us.anthropic.`), with a version, date
 * or `@` suffix.
 */
function modelFamily(names: string): RegExp {
  return new RegExp(`(^|[/:.])(${names})`, 'i');
}

/** Models whose images bill past TOKENS_PER_IMAGE, by their highest image tokens. */
const IMAGE_TOKEN_BOUNDS: readonly (readonly [RegExp, number])[] = [
  [modelIds('gpt-4o-mini'), GPT_4O_MINI_IMAGE_TOKENS],
  [modelFamily('gemini-(1\\.5|2(\\.\\d)?)-'), GEMINI_TILED_IMAGE_TOKENS],
  [
    modelFamily(
      'claude-(opus-4[-.][7-9](?!\\d)|(opus|sonnet|haiku)-([5-9]|\\d{2})(?!\\d)|fable|mythos)',
    ),
    CLAUDE_HIGH_RESOLUTION_IMAGE_TOKENS,
  ],
  [modelFamily('pixtral-'), PIXTRAL_IMAGE_TOKENS],
  [modelFamily('(mistral|magistral)-(small|medium)'), MISTRAL_MERGED_IMAGE_TOKENS],
  [modelFamily('command-a-vision|(c4ai-)?aya-vision'), COHERE_IMAGE_TOKENS],
  [modelIds('gpt-4\\.1-nano|gpt-5-nano'), Math.ceil(MAX_PATCHES * 2.46)],
  [modelIds('o4-mini'), Math.ceil(MAX_PATCHES * 1.72)],
  [modelIds('gpt-4\\.1-mini|gpt-5-mini'), Math.ceil(MAX_PATCHES * 1.62)],
];

/** The most tokens one image in a prompt may bill on `model` (a backend's model id). */
export function imageTokensUpperBound(model: string): number {
  for (const [pattern, tokens] of IMAGE_TOKEN_BOUNDS) if (pattern.test(model)) return tokens;
  return TOKENS_PER_IMAGE;
}

/**
 * What `images` may bill on `model` past the TOKENS_PER_IMAGE each a prompt estimate counts
 * them at: the tokens a chat call's or a batch's hold adds for them.
 */
export function imageTokensPastEstimate(model: string, images: number): number {
  return images * (imageTokensUpperBound(model) - TOKENS_PER_IMAGE);
}

/**
 * What `images` may bill past the estimate's TOKENS_PER_IMAGE each on the dearest of
 * `models` (those that may serve a request): what its hold adds for them, and so what the
 * token-count routes add, so a count tells a client what admission will hold.
 */
export function imageTokensPastEstimateOnAny(models: readonly string[], images: number): number {
  let most = 0;
  for (const model of models) most = Math.max(most, imageTokensPastEstimate(model, images));
  return most;
}

/**
 * What a chat request shows the model as images, each counted at TOKENS_PER_IMAGE by its
 * prompt estimate: its image parts, and the pages of its PDFs (inline, read with its
 * estimate as `media`, or by id: `heldFilePages`), each read as an image of the page too
 * (Anthropic, OpenAI).
 */
export function promptImagesOn(request: GatewayRequest, media: PromptMedia): number {
  return media.images + media.pdfPages + (request.heldFilePages ?? 0);
}
