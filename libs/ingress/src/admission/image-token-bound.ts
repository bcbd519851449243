import { TOKENS_PER_IMAGE } from '@aigw/contracts/data-plane';

// OpenAI's vision guide: most models bill an image by 512 px tiles (85 + 170 a tile, at
// most ~1,500 tokens, within the prompt estimate's TOKENS_PER_IMAGE), but gpt-4o-mini bills
// 2,833 + 5,667 a tile (its price per token is lower, its image cost the same as gpt-4o's),
// up to 8 tiles (768 x 2048 px after scaling), and the patch-billed minis count at most
// 1,536 patches of 32 px times their multiplier. Held at 1,600 tokens, one image on
// gpt-4o-mini bills 30 times its hold.
const GPT_4O_MINI_IMAGE_TOKENS = 2_833 + 8 * 5_667;
const MAX_PATCHES = 1_536;

/** A model id of `names`, dated or not, alone or after a provider's prefix (`openai/`). */
function modelIds(names: string): RegExp {
  return new RegExp(`(^|[/:])(${names})(-\\d{4}-\\d{2}-\\d{2})?$`, 'i');
}

/** Models whose images bill past TOKENS_PER_IMAGE, by their highest image tokens. */
const IMAGE_TOKEN_BOUNDS: readonly (readonly [RegExp, number])[] = [
  [modelIds('gpt-4o-mini'), GPT_4O_MINI_IMAGE_TOKENS],
  [modelIds('gpt-4\\.1-nano|gpt-5-nano'), Math.ceil(MAX_PATCHES * 2.46)],
  [modelIds('o4-mini'), Math.ceil(MAX_PATCHES * 1.72)],
  [modelIds('gpt-4\\.1-mini|gpt-5-mini'), Math.ceil(MAX_PATCHES * 1.62)],
];

/** The most tokens one image in a prompt may bill on `model` (a backend's model id). */
export function imageTokensUpperBound(model: string): number {
  for (const [pattern, tokens] of IMAGE_TOKEN_BOUNDS) if (pattern.test(model)) return tokens;
  return TOKENS_PER_IMAGE;
}
