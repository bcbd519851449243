import type { EventSourceMessage } from 'eventsource-parser';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { ChunkFactory } from '../core/openai-output';
import type { StreamTranslation } from '../core/translated-stream';
import { streamInterrupted } from '../core/upstream-http';
import { anthropicFinishReason, anthropicUsage } from './anthropic-response';

/**
 * Anthropic's SSE events into OpenAI chunks. Content blocks are numbered across text and
 * tool use; OpenAI numbers tool calls alone, so each tool_use block gets the next tool
 * index. Usage starts in message_start (input, cache) and message_delta updates it.
 */
export class AnthropicStreamTranslation implements StreamTranslation<EventSourceMessage> {
  finished = false;
  private readonly chunks: ChunkFactory;
  private readonly toolIndexByBlock = new Map<number, number>();
  private usage: JsonObject | undefined;

  constructor(
    private readonly backendName: string,
    model: string,
  ) {
    this.chunks = new ChunkFactory('msg', model);
  }

  translate(message: EventSourceMessage): readonly JsonObject[] {
    let event: JsonObject;
    try {
      event = JSON.parse(message.data) as JsonObject;
    } catch {
      throw streamInterrupted(this.backendName, 'sent a stream event that is not JSON');
    }
    switch (event.type) {
      case 'message_start': {
        const start = (event.message ?? {}) as JsonObject;
        if (typeof start.id === 'string') this.chunks.id = start.id;
        if (typeof start.model === 'string') this.chunks.model = start.model;
        this.usage = { ...(start.usage as JsonObject | undefined) };
        return [this.chunks.role()];
      }
      case 'content_block_start':
        return this.blockStart(event);
      case 'content_block_delta':
        return this.blockDelta(event);
      case 'message_delta': {
        // message_delta's usage counts are cumulative: they replace earlier ones.
        this.usage = { ...this.usage, ...(event.usage as JsonObject | undefined) };
        const delta = (event.delta ?? {}) as JsonObject;
        return delta.stop_reason
          ? [this.chunks.finish(anthropicFinishReason(delta.stop_reason))]
          : [];
      }
      case 'message_stop':
        this.finished = true;
        return [];
      case 'error': {
        const error = (event.error ?? {}) as JsonObject;
        throw streamInterrupted(
          this.backendName,
          `reported ${typeof error.type === 'string' ? error.type : 'an error'} mid-stream`,
        );
      }
      default: // ping, content_block_stop, and event types added later
        return [];
    }
  }

  private blockStart(event: JsonObject): JsonObject[] {
    const block = (event.content_block ?? {}) as JsonObject;
    if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') {
      return [this.chunks.text(block.text)];
    }
    if (block.type !== 'tool_use') return [];
    const toolIndex = this.toolIndexByBlock.size;
    this.toolIndexByBlock.set(event.index as number, toolIndex);
    return [this.chunks.toolCallStart(toolIndex, String(block.id), String(block.name))];
  }

  private blockDelta(event: JsonObject): JsonObject[] {
    const delta = (event.delta ?? {}) as JsonObject;
    if (delta.type === 'text_delta' && typeof delta.text === 'string') {
      return [this.chunks.text(delta.text)];
    }
    if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
      const toolIndex = this.toolIndexByBlock.get(event.index as number);
      if (toolIndex === undefined || delta.partial_json === '') return [];
      return [this.chunks.toolCallArguments(toolIndex, delta.partial_json)];
    }
    return []; // thinking and signature deltas have no OpenAI counterpart
  }

  reportedUsage(): TokenUsage | undefined {
    return anthropicUsage(this.usage);
  }

  usageChunk(usage: TokenUsage): JsonObject {
    return this.chunks.usage(usage);
  }
}
