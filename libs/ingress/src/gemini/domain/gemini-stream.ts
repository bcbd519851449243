import {
  reasoningTextOf,
  type JsonObject,
  type ThinkingBlock,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { thinkingBlocksOf } from '../../responses/domain/encrypted-reasoning';
import type { GeminiRequestFacts } from './gemini-request';
import {
  functionCallPart,
  geminiFinishReason,
  geminiUsageMetadata,
  reasoningBlocksSignature,
  reasoningTokensOf,
  responseIdOf,
  thoughtSignatureOf,
  toolArgs,
} from './gemini-response';

/** A tool call whose arguments are still arriving. */
interface OpenCall {
  id: unknown;
  name: string;
  args: string;
  signature?: string;
}

/**
 * Turns a stream of OpenAI chat.completion.chunk objects into Gemini's stream: each
 * event a partial GenerateContentResponse. Text and thought summaries go out as they
 * come; a function call goes out whole, as Gemini sends it, once its arguments are
 * complete (the next call begins, or the choice finishes). The last event carries the
 * finishReason and the usage, which is known only when the stream has ended.
 */
export class GeminiStreamTranslator {
  private responseId: string | undefined;
  private readonly calls = new Map<number, OpenCall>();
  private finishReason: unknown = null;
  private reasoningTokens = 0;
  /** Signed thinking blocks not yet given to a function call (see the JSON answer). */
  private thinking: ThinkingBlock[] = [];
  /** The reasoning text since the last block: a block's signature may come without it. */
  private reasoningText = '';

  constructor(
    private readonly facts: GeminiRequestFacts,
    private readonly requestId: string,
  ) {}

  /** The events one chunk produces (often one, sometimes none). */
  push(chunk: JsonObject): JsonObject[] {
    this.responseId ??= responseIdOf(chunk.id, this.requestId);
    if (chunk.usage !== undefined && chunk.usage !== null) {
      this.reasoningTokens = Math.max(this.reasoningTokens, reasoningTokensOf(chunk.usage));
    }
    const choices = chunk.choices;
    const choice = Array.isArray(choices) ? (choices[0] as JsonObject | undefined) : undefined;
    if (!choice) return [];
    const delta = (choice.delta ?? {}) as JsonObject;
    const parts: JsonObject[] = [];
    const reasoning = reasoningTextOf(delta);
    if (reasoning !== undefined && this.facts.includeThoughts) {
      parts.push({ text: reasoning, thought: true });
    }
    if (reasoning !== undefined) this.reasoningText += reasoning;
    for (const block of thinkingBlocksOf(delta.thinking_blocks)) this.thinkingBlock(block);
    if (typeof delta.content === 'string' && delta.content !== '')
      parts.push({ text: delta.content });
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls as JsonObject[]) parts.push(...this.toolCallDelta(call));
    }
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
      this.finishReason = choice.finish_reason;
      parts.push(...this.flushCalls());
    }
    return parts.length === 0 ? [] : [this.event(parts)];
  }

  /** The closing event, once the stream ended cleanly and its usage is known. */
  finish(usage: TokenUsage): JsonObject[] {
    const closing = this.event(this.flushCalls());
    const candidate = (closing.candidates as JsonObject[])[0];
    candidate.finishReason = geminiFinishReason(this.finishReason);
    closing.usageMetadata = geminiUsageMetadata(usage, this.reasoningTokens);
    return [closing];
  }

  private event(parts: JsonObject[]): JsonObject {
    const candidate: JsonObject = { index: 0 };
    if (parts.length > 0) candidate.content = { role: 'model', parts };
    return {
      candidates: [candidate],
      modelVersion: this.facts.model,
      responseId: this.responseId ?? this.requestId,
    };
  }

  /** A fragment of a tool call; a call that begins completes the ones before it. */
  private toolCallDelta(call: JsonObject): JsonObject[] {
    const fn = (call.function ?? {}) as JsonObject;
    const index = typeof call.index === 'number' ? call.index : this.calls.size;
    let open = this.calls.get(index);
    const done: JsonObject[] = [];
    if (!open) {
      done.push(...this.flushCalls());
      open = { id: call.id, name: typeof fn.name === 'string' ? fn.name : '', args: '' };
      this.calls.set(index, open);
    }
    const signature = thoughtSignatureOf(call);
    if (signature !== undefined) open.signature = signature;
    if (typeof fn.name === 'string' && fn.name !== '' && open.name === '') open.name = fn.name;
    if (typeof fn.arguments === 'string') open.args += fn.arguments;
    return done;
  }

  /**
   * A reasoning block as the backend signed it: streamed, its text came before as
   * reasoning fragments and its signature comes alone (Anthropic's signature_delta);
   * an entry without a signature repeats text already streamed and completes nothing.
   */
  private thinkingBlock(block: ThinkingBlock): void {
    if (block.type === 'thinking' && block.signature === '') return;
    if (block.type === 'thinking' && block.thinking === '') {
      this.thinking.push({ ...block, thinking: this.reasoningText });
    } else this.thinking.push(block);
    this.reasoningText = '';
  }

  private flushCalls(): JsonObject[] {
    const parts = [...this.calls.values()].map((call) => {
      const signature = call.signature ?? reasoningBlocksSignature(this.thinking);
      this.thinking = [];
      return functionCallPart(call.id, call.name, toolArgs(call.args, call.name), signature);
    });
    this.calls.clear();
    return parts;
  }
}
