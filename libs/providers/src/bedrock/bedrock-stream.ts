import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { ChunkFactory } from '../core/openai-output';
import type { StreamTranslation } from '../core/translated-stream';
import { streamInterrupted } from '../core/upstream-http';
import type { BedrockStreamEvent } from './bedrock-event-stream';
import { bedrockFinishReason, bedrockUsage } from './bedrock-response';

/**
 * ConverseStream events into OpenAI chunks. Content blocks are numbered across text and
 * tool use; each toolUse block gets the next OpenAI tool-call index. The answer is
 * complete at messageStop; usage arrives after it, in the metadata event.
 */
export class BedrockStreamTranslation implements StreamTranslation<BedrockStreamEvent> {
  finished = false;
  private readonly chunks: ChunkFactory;
  private readonly toolIndexByBlock = new Map<number, number>();
  private usage: TokenUsage | undefined;

  constructor(
    private readonly backendName: string,
    id: string,
    model: string,
  ) {
    this.chunks = new ChunkFactory(id, model);
  }

  translate(event: BedrockStreamEvent): readonly JsonObject[] {
    if (event.messageType !== 'event') {
      const detail = typeof event.payload.message === 'string' ? `: ${event.payload.message}` : '';
      throw streamInterrupted(
        this.backendName,
        `sent ${event.name || 'an error'} mid-stream${detail}`,
      );
    }
    const payload = event.payload;
    switch (event.name) {
      case 'messageStart':
        return [this.chunks.role()];
      case 'contentBlockStart': {
        const toolUse = (payload.start as JsonObject | undefined)?.toolUse as
          JsonObject | undefined;
        if (!toolUse) return [];
        const toolIndex = this.toolIndexByBlock.size;
        this.toolIndexByBlock.set(payload.contentBlockIndex as number, toolIndex);
        return [
          this.chunks.toolCallStart(toolIndex, String(toolUse.toolUseId), String(toolUse.name)),
        ];
      }
      case 'contentBlockDelta': {
        const delta = (payload.delta ?? {}) as JsonObject;
        if (typeof delta.text === 'string')
          return delta.text === '' ? [] : [this.chunks.text(delta.text)];
        const input = (delta.toolUse as JsonObject | undefined)?.input;
        const toolIndex = this.toolIndexByBlock.get(payload.contentBlockIndex as number);
        if (typeof input === 'string' && input !== '' && toolIndex !== undefined) {
          return [this.chunks.toolCallArguments(toolIndex, input)];
        }
        return []; // reasoning content has no OpenAI counterpart
      }
      case 'messageStop':
        this.finished = true;
        return [this.chunks.finish(bedrockFinishReason(payload.stopReason))];
      case 'metadata':
        this.usage = bedrockUsage(payload.usage) ?? this.usage;
        return [];
      default: // contentBlockStop and event types added later
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
