import type { EventSourceMessage } from 'eventsource-parser';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { ChunkFactory } from '../core/openai-output';
import type { StreamTranslation } from '../core/translated-stream';
import { streamInterrupted } from '../core/upstream-http';
import { cohereFinishReason, cohereUsage } from './cohere-response';

function messageDelta(event: JsonObject): JsonObject {
  return ((event.delta as JsonObject | undefined)?.message ?? {}) as JsonObject;
}

/**
 * Cohere's v2 chat stream into OpenAI chunks. Each tool-call-start gets the next OpenAI
 * tool-call index; the answer is complete at message-end, which carries the usage.
 */
export class CohereStreamTranslation implements StreamTranslation<EventSourceMessage> {
  finished = false;
  private readonly chunks: ChunkFactory;
  private usage: TokenUsage | undefined;
  private readonly toolIndexByCohere = new Map<unknown, number>();

  constructor(
    private readonly backendName: string,
    model: string,
  ) {
    this.chunks = new ChunkFactory('chatcmpl-cohere', model);
  }

  translate(message: EventSourceMessage): readonly JsonObject[] {
    let event: JsonObject;
    try {
      event = JSON.parse(message.data) as JsonObject;
    } catch {
      throw streamInterrupted(this.backendName, 'sent a stream event that is not JSON');
    }
    switch (event.type) {
      case 'message-start':
        if (typeof event.id === 'string') this.chunks.id = event.id;
        return [this.chunks.role()];
      case 'content-delta': {
        const text = (messageDelta(event).content as JsonObject | undefined)?.text;
        return typeof text === 'string' && text !== '' ? [this.chunks.text(text)] : [];
      }
      case 'tool-call-start': {
        const call = (messageDelta(event).tool_calls ?? {}) as JsonObject;
        const fn = (call.function ?? {}) as JsonObject;
        const index = this.toolIndexByCohere.size;
        this.toolIndexByCohere.set(event.index, index);
        const out = [this.chunks.toolCallStart(index, String(call.id), String(fn.name))];
        if (typeof fn.arguments === 'string' && fn.arguments !== '') {
          out.push(this.chunks.toolCallArguments(index, fn.arguments));
        }
        return out;
      }
      case 'tool-call-delta': {
        const call = (messageDelta(event).tool_calls ?? {}) as JsonObject;
        const args = (call.function as JsonObject | undefined)?.arguments;
        const index = this.toolIndexByCohere.get(event.index);
        return typeof args === 'string' && args !== '' && index !== undefined
          ? [this.chunks.toolCallArguments(index, args)]
          : [];
      }
      case 'message-end': {
        const delta = (event.delta ?? {}) as JsonObject;
        this.usage = cohereUsage(delta.usage) ?? this.usage;
        if (delta.finish_reason === 'ERROR' || delta.finish_reason === 'TIMEOUT') {
          throw streamInterrupted(this.backendName, `ended the stream with ${delta.finish_reason}`);
        }
        this.finished = true;
        return [this.chunks.finish(cohereFinishReason(delta.finish_reason))];
      }
      default:
        // content-start/end, tool-plan-delta, tool-call-end, citations, debug
        if (message.event === 'error' || event.type === 'error') {
          throw streamInterrupted(this.backendName, 'reported an error mid-stream');
        }
        return [];
    }
  }

  reportedUsage(): TokenUsage | undefined {
    return this.usage;
  }

  usageChunk(usage: TokenUsage): JsonObject {
    return this.chunks.usage(usage);
  }
}
