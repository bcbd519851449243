import { promptText, type JsonObject, type TokenUsage } from '@aigw/contracts/data-plane';

interface Encoding {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
  setMergeCacheSize(size: number): void;
}

// The cl100k encoding (gpt-tokenizer): ~11 MB of RSS and 100-150 ms to load, measured;
// o200k costs about twice that and js-tiktoken 4-5 times. It loads on the first
// estimate only: most providers report usage and never need it.
const ENCODING_MODULE = 'gpt-tokenizer/encoding/cl100k_base';
// Beyond this many characters we tokenize a prefix and scale, so one huge prompt cannot
// hold the event loop (about 0.03 ms per 1,000 characters when measured).
const MAX_EXACT_CHARS = 64 * 1024;
// Special-token text in a prompt is ordinary text to us, never a reason to throw.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
const CHARS_PER_TOKEN = 4;
const MERGE_CACHE_ENTRIES = 4096;

let encoding: Encoding | null | undefined;

function loadEncoding(): Encoding | null {
  if (encoding === undefined) {
    try {
      // A runtime require keeps the encoding out of start-up; see ENCODING_MODULE.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      encoding = require(ENCODING_MODULE) as Encoding;
      // The default merge cache holds 100,000 entries (~10 MB of heap); estimates need few.
      encoding.setMergeCacheSize(MERGE_CACHE_ENTRIES);
    } catch {
      encoding = null; // a missing tokenizer degrades to the character rule, never fails a call
    }
  }
  return encoding;
}

/** Tokens in `text` by a real BPE tokenizer (OpenAI's cl100k); an estimate for other models. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const bpe = loadEncoding();
  if (!bpe) return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
  if (text.length <= MAX_EXACT_CHARS) return bpe.countTokens(text, PLAIN_TEXT);
  const sample = bpe.countTokens(text.slice(0, MAX_EXACT_CHARS), PLAIN_TEXT);
  return Math.ceil((sample * text.length) / MAX_EXACT_CHARS);
}

/** Estimated prompt tokens of an OpenAI-format request body. */
export function estimatePromptTokens(body: JsonObject): number {
  return countTokens(promptText(body));
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
