import type { EventSourceMessage } from 'eventsource-parser';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { parseJsonObject } from '../core/json-shape';
import { ChunkFactory } from '../core/openai-output';
import type { StreamTranslation } from '../core/translated-stream';
import { streamEventObject } from '../core/stream-event-json';
import { streamInterrupted } from '../core/upstream-http';
import {
  blockReason,
  candidateParts,
  firstCandidate,
  geminiFinishReason,
  geminiUsage,
  type RejectAnswer,
} from './gemini-response';

/**
 * The larger of each count: Gemini's stream usage is cumulative, so an event reporting
 * less than an earlier one (a partial usageMetadata) must not lower the bill.
 */
function mergeUsage(previous: TokenUsage | undefined, next: TokenUsage): TokenUsage {
  if (!previous) return next;
  const outputTokens = Math.max(previous.outputTokens, next.outputTokens);
  const imageOutputTokens = Math.max(previous.imageOutputTokens ?? 0, next.imageOutputTokens ?? 0);
  return {
    inputTokens: Math.max(previous.inputTokens, next.inputTokens),
    outputTokens,
    cachedInputTokens: Math.max(previous.cachedInputTokens, next.cachedInputTokens),
    ...(imageOutputTokens > 0 ? { imageOutputTokens } : {}),
    source: 'reported',
  };
}

/**
 * streamGenerateContent (alt=sse) into OpenAI chunks. Each event is a partial
 * GenerateContentResponse; Gemini sends no end marker, so the answer is complete only
 * once a candidate carried a finishReason (or the prompt was blocked). Function calls
 * arrive whole, in one event, with their thoughtSignature (on the call's first delta
 * entry, as in a JSON answer); thought summaries are reasoning fragments. After the
 * finish only usage is still read.
 */
export class GeminiStreamTranslation implements StreamTranslation<EventSourceMessage> {
  finished = false;
  private readonly chunks: ChunkFactory;
  private readonly reject: RejectAnswer;
  private started = false;
  private toolCalls = 0;
  private usage: TokenUsage | undefined;

  constructor(
    private readonly backendName: string,
    model: string,
  ) {
    this.chunks = new ChunkFactory('chatcmpl-gemini', model);
    this.reject = (what) => streamInterrupted(backendName, `sent a stream event with ${what}`);
  }

  translate(message: EventSourceMessage): readonly JsonObject[] {
    if (this.finished) {
      this.readLateUsage(message.data);
      return [];
    }
    const event = this.parse(message.data);
    this.readUsage(event);
    const out = this.opening(event);
    const candidate = firstCandidate(event, this.reject);
    const { text, reasoning, toolCalls, images } = candidateParts(candidate, this.reject);
    // Thought summaries are reasoning, never content; Gemini writes them before the answer.
    if (reasoning !== '') out.push(this.chunks.reasoning(reasoning));
    if (text !== '') out.push(this.chunks.text(text));
    // Relayed as they come, each no larger than the (bounded) event that carried it.
    if (images.length > 0) out.push(this.chunks.images(images));
    for (const call of toolCalls) {
      const index = this.toolCalls++;
      out.push(this.chunks.toolCallStart(index, call.id, call.name, call.thoughtSignature));
      out.push(this.chunks.toolCallArguments(index, call.argumentsJson));
    }
    const blocked = !candidate && blockReason(event) !== undefined;
    if (candidate?.finishReason || blocked) {
      this.finished = true;
      const reason = blocked
        ? 'content_filter'
        : geminiFinishReason(candidate?.finishReason, this.toolCalls > 0);
      out.push(this.chunks.finish(reason));
    }
    return out;
  }

  reportedUsage(): TokenUsage | undefined {
    return this.usage;
  }

  usageChunk(usage: TokenUsage): JsonObject {
    return this.chunks.usage(usage);
  }

  private readUsage(event: JsonObject): void {
    const usage = geminiUsage(event.usageMetadata);
    if (usage) this.usage = mergeUsage(this.usage, usage);
  }

  /**
   * An event after the finish can no longer change the answer the client has whole, so
   * junk or an error there does not fail it; only usage is still taken from it.
   */
  private readLateUsage(data: string): void {
    const event = parseJsonObject(data);
    if (event) this.readUsage(event);
  }

  /** One event's data as an object; anything else (or an error object) ends the stream. */
  private parse(data: string): JsonObject {
    const event = streamEventObject(this.backendName, data);
    if (event.error) throw streamInterrupted(this.backendName, 'reported an error mid-stream');
    return event;
  }

  /** The role chunk, before the first event's content; it names the stream's id and model. */
  private opening(event: JsonObject): JsonObject[] {
    if (this.started) return [];
    this.started = true;
    if (typeof event.responseId === 'string') this.chunks.id = event.responseId;
    if (typeof event.modelVersion === 'string') this.chunks.model = event.modelVersion;
    return [this.chunks.role()];
  }
}
