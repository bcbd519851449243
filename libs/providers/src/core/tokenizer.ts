import {
  countPromptTokens,
  estimateTokens,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';

// The tokenizer itself lives with the data-plane contracts, so the edge (budget
// admission) and the adapters count the same way.
const MAX_EXACT_CHARS = 64 * 1024;

/** Tokens in `text` by a real BPE tokenizer (OpenAI's cl100k); an estimate for other models. */
export const countTokens = estimateTokens;

/**
 * Estimated prompt tokens of an OpenAI-format request body, for billing a call whose
 * provider reported none: what `count_tokens` answers (text, message framing, tool
 * definitions, images), so an image-heavy or tool-heavy prompt is not billed as its text.
 */
export function estimatePromptTokens(body: JsonObject): number {
  return countPromptTokens(body);
}

/**
 * Collects the text of a streamed answer for estimating its tokens, keeping at most a
 * bounded sample so a long stream costs no more memory than a short one.
 */
export class OutputTally {
  private readonly pieces: string[] = [];
  private sampleChars = 0;
  private totalChars = 0;

  add(text: string): void {
    if (text.length === 0) return;
    this.totalChars += text.length;
    if (this.sampleChars < MAX_EXACT_CHARS) {
      this.pieces.push(text);
      this.sampleChars += text.length;
    }
  }

  get tokens(): number {
    if (this.totalChars === 0) return 0;
    const sample = countTokens(this.pieces.join(''));
    return Math.ceil((sample * this.totalChars) / this.sampleChars);
  }
}

/** Usage for a call the provider reported nothing for, marked as estimated. */
export function estimatedUsage(body: JsonObject, outputTokens: number): TokenUsage {
  return {
    inputTokens: estimatePromptTokens(body),
    outputTokens,
    cachedInputTokens: 0,
    source: 'estimated',
  };
}
