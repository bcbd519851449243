import {
  countPromptTokens,
  estimateTokens,
  reasoningTextOf,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';

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

  /**
   * A chunk delta's generated text: its reasoning (billed as output by every provider that
   * reasons; `reasoning_content`, or `reasoning` as vLLM from 0.11, Groq and Ollama name it,
   * one of them when a chunk holds both), its content, and its tool calls' names and
   * arguments, which an answer that only called tools generated all the same.
   */
  addDelta(delta: unknown): void {
    if (!isJsonObject(delta)) return;
    const reasoning = reasoningTextOf(delta);
    if (reasoning !== undefined) this.add(reasoning);
    if (typeof delta.content === 'string') this.add(delta.content);
    if (!Array.isArray(delta.tool_calls)) return;
    for (const call of delta.tool_calls) {
      const fn = isJsonObject(call) ? call.function : undefined;
      if (!isJsonObject(fn)) continue;
      if (typeof fn.name === 'string') this.add(fn.name);
      if (typeof fn.arguments === 'string') this.add(fn.arguments);
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
