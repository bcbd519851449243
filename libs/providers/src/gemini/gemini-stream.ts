import type { EventSourceMessage } from 'eventsource-parser';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { ChunkFactory } from '../core/openai-output';
import type { StreamTranslation } from '../core/translated-stream';
import { streamInterrupted } from '../core/upstream-http';
import { candidateParts, geminiFinishReason, geminiUsage } from './gemini-response';

/**
 * streamGenerateContent (alt=sse) into OpenAI chunks. Each event is a partial
 * GenerateContentResponse; Gemini sends no end marker, so the answer is complete only
 * once a candidate carried a finishReason. Function calls arrive whole, in one event.
 */
export class GeminiStreamTranslation implements StreamTranslation<EventSourceMessage> {
  finished = false;
  private readonly chunks: ChunkFactory;
  private started = false;
  private toolCalls = 0;
  private usage: TokenUsage | undefined;

  constructor(
    private readonly backendName: string,
    model: string,
  ) {
    this.chunks = new ChunkFactory('chatcmpl-gemini', model);
  }

  translate(message: EventSourceMessage): readonly JsonObject[] {
    let event: JsonObject;
    try {
      event = JSON.parse(message.data) as JsonObject;
    } catch {
      throw streamInterrupted(this.backendName, 'sent a stream event that is not JSON');
    }
    if (event.error) throw streamInterrupted(this.backendName, 'reported an error mid-stream');
    this.usage = geminiUsage(event.usageMetadata) ?? this.usage;
    const out: JsonObject[] = [];
    if (!this.started) {
      this.started = true;
      if (typeof event.responseId === 'string') this.chunks.id = event.responseId;
      if (typeof event.modelVersion === 'string') this.chunks.model = event.modelVersion;
      out.push(this.chunks.role());
    }
    const candidate = (event.candidates as JsonObject[] | undefined)?.[0];
    const { text, toolCalls } = candidateParts(candidate);
    if (text !== '') out.push(this.chunks.text(text));
    for (const call of toolCalls) {
      const index = this.toolCalls++;
      out.push(this.chunks.toolCallStart(index, call.id, call.name));
      out.push(this.chunks.toolCallArguments(index, call.argumentsJson));
    }
    const blocked = !candidate && (event.promptFeedback as JsonObject | undefined)?.blockReason;
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
}
