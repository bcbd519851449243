import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { isJsonObject, isNonEmptyString } from '../core/json-shape';
import { HeldRoleChunk } from '../core/held-role-chunk';
import { ChunkFactory, type FinishReason } from '../core/openai-output';
import { servedTierOfConverse } from '../core/service-tier';
import { NOTHING_SPENT } from '../core/spent-usage';
import { withServedTier } from '../core/usage';
import type { StreamTranslation } from '../core/translated-stream';
import { scrubbedUpstreamText } from '../core/upstream-failure';
import { streamInterrupted } from '../core/upstream-http';
import type { BedrockStreamEvent } from './bedrock-event-stream';
import { anthropicCitation } from './bedrock-citations';
import {
  bedrockFinishReason,
  bedrockUsage,
  converseStoppedAt,
  failedStopReason,
} from './bedrock-response';

/** The most of an upstream's exception message an error passes on. */
const MAX_DETAIL_CHARS = 300;

/**
 * What a ConverseStream exception means before any chunk went out, when the router can
 * still act on it: the same codes as the HTTP statuses Converse gives these exceptions.
 */
function exceptionCode(name: string): DataPlaneErrorCode {
  switch (name.toLowerCase()) {
    case 'throttlingexception':
      return DataPlaneErrorCode.UpstreamRateLimited;
    case 'modeltimeoutexception':
      return DataPlaneErrorCode.UpstreamTimeout;
    case 'validationexception':
      return DataPlaneErrorCode.UpstreamRejected;
    default: // modelStreamErrorException, internalServerException, serviceUnavailable...
      return DataPlaneErrorCode.UpstreamError;
  }
}

/**
 * The ConverseStream exceptions by which Bedrock refuses a request rather than fails while
 * answering it: before any answer, such a call is billed nothing, as the same refusal as an
 * HTTP status (429, 503, 400) is not.
 */
const REFUSALS: ReadonlySet<string> = new Set([
  'throttlingexception',
  'serviceunavailableexception',
  'validationexception',
]);

/**
 * ConverseStream events into OpenAI chunks. messageStart's role chunk goes out with the
 * first chunk that carries something, so an exception right after it still fails over.
 * Text blocks have no start event; each toolUse block starts with one and gets the next
 * OpenAI tool-call index. The answer is complete once both messageStop and the metadata
 * event (usage, the served tier) arrived, and its finish chunk waits for both. Reasoning deltas are `reasoning_content` fragments and, for
 * a signature or a redacted block, a `thinking_blocks` entry to send back. With an answer
 * tool (`bedrock-json-mode.ts`) its input fragments are the content and prose is
 * dropped, as in the JSON answer.
 */
export class BedrockStreamTranslation implements StreamTranslation<BedrockStreamEvent> {
  private readonly chunks: ChunkFactory;
  private readonly toolIndexByBlock = new Map<number, number>();
  /** The client tool calls (by OpenAI index) that got input fragments so far. */
  private readonly toolsWithArguments = new Set<number>();
  /** The answer tool's blocks, by block index: whether input arrived for each. */
  private readonly answerBlocks = new Map<unknown, boolean>();
  private usage: TokenUsage | undefined;
  /** messageStart's role chunk, waiting for the first chunk with something in it. */
  private readonly opening: HeldRoleChunk;
  private stopped = false;
  private sawMetadata = false;
  private finishReason: FinishReason | undefined;
  private stoppedAt: string | undefined;
  private finishSent = false;
  /** The content block the last text or citation delta was on, once citations came. */
  private textBlock: unknown;
  private cited = false;

  constructor(
    private readonly backendName: string,
    id: string,
    model: string,
    private readonly answerTool?: string,
  ) {
    this.chunks = new ChunkFactory(id, model);
    this.opening = new HeldRoleChunk(this.chunks);
  }

  get finished(): boolean {
    return this.stopped && this.sawMetadata;
  }

  translate(event: BedrockStreamEvent): readonly JsonObject[] {
    if (event.kind === 'exception') throw this.failure(event.name, event.message);
    return this.opening.release(this.translateEvent(event.name, event.payload));
  }

  /** The metadata event's usage, with the tier it names (priced by serviceTierFactors). */
  reportedUsage(): TokenUsage | undefined {
    return this.usage && withServedTier(this.usage, this.chunks.serviceTier);
  }

  usageChunk(usage: TokenUsage): JsonObject {
    return this.chunks.usage(usage);
  }

  private translateEvent(name: string, payload: JsonObject): JsonObject[] {
    switch (name) {
      case 'messageStart':
        // Held back: an exception Bedrock sends right after messageStart (throttling, a
        // model stream error) comes before anything the client could use, and the router
        // may still fail over only while no chunk has gone out.
        this.opening.hold();
        return [];
      case 'contentBlockStart':
        return this.blockStart(payload);
      case 'contentBlockDelta':
        return this.blockDelta(payload);
      case 'messageStop': {
        if (this.stopped) return [];
        const failed = failedStopReason(payload.stopReason);
        if (failed) throw streamInterrupted(this.backendName, `stopped with ${failed}`);
        this.stopped = true;
        this.finishReason = bedrockFinishReason(payload.stopReason, this.toolIndexByBlock.size > 0);
        this.stoppedAt = converseStoppedAt(
          payload.stopReason,
          payload.additionalModelResponseFields,
        );
        return this.finishOnceComplete();
      }
      case 'contentBlockStop':
        return this.blockStop(payload);
      case 'metadata': {
        this.sawMetadata = true;
        this.usage = bedrockUsage(payload.usage) ?? this.usage;
        const tier = servedTierOfConverse(payload.serviceTier);
        if (tier !== undefined) this.chunks.serviceTier = tier;
        return this.finishOnceComplete();
      }
      default: // event types added later
        return [];
    }
  }

  /**
   * The finish chunk, once both messageStop and the metadata event arrived: the served tier
   * comes in the metadata, after messageStop, and the finish chunk names it.
   */
  private finishOnceComplete(): JsonObject[] {
    if (!this.finished || this.finishReason === undefined || this.finishSent) return [];
    this.finishSent = true;
    return [this.chunks.finish(this.finishReason, this.stoppedAt)];
  }

  private blockStart(payload: JsonObject): JsonObject[] {
    const start = isJsonObject(payload.start) ? payload.start : {};
    const toolUse = start.toolUse;
    if (!isJsonObject(toolUse)) return []; // a start of another kind carries nothing to relay
    const block = this.blockIndex(payload);
    if (this.toolIndexByBlock.has(block) || this.answerBlocks.has(block)) {
      throw this.malformed(`a second start of content block ${block}`);
    }
    const { toolUseId, name } = toolUse;
    if (!isNonEmptyString(toolUseId) || !isNonEmptyString(name)) {
      throw this.malformed('a toolUse start without its toolUseId or name');
    }
    if (this.answerTool !== undefined) {
      // The answer tool's call starts nothing the client sees: its input will be the content.
      if (name !== this.answerTool) throw this.malformed('a toolUse for a tool never offered');
      this.answerBlocks.set(block, false);
      return [];
    }
    const toolIndex = this.toolIndexByBlock.size;
    this.toolIndexByBlock.set(block, toolIndex);
    return [this.chunks.toolCallStart(toolIndex, toolUseId, name)];
  }

  private blockDelta(payload: JsonObject): JsonObject[] {
    const delta = isJsonObject(payload.delta) ? payload.delta : {};
    if ('text' in delta) {
      if (typeof delta.text !== 'string') throw this.malformed('a text delta that is not text');
      if (this.answerTool !== undefined || delta.text === '') return [];
      return [...this.textBlockBoundary(payload), this.chunks.text(delta.text)];
    }
    if ('toolUse' in delta) return this.toolInput(payload, delta.toolUse);
    if ('reasoningContent' in delta) return this.reasoning(delta.reasoningContent);
    if ('citation' in delta) return this.citation(payload, delta.citation);
    return []; // members added later
  }

  /**
   * A source of the cited text block streaming, which Bedrock sends before that block's
   * text (as Anthropic's citations_delta): a `citations` delta of Anthropic's shape.
   */
  private citation(payload: JsonObject, citation: unknown): JsonObject[] {
    const source = anthropicCitation(citation);
    if (!source || this.answerTool !== undefined) return [];
    const boundary = this.textBlockBoundary(payload);
    this.cited = true;
    return [...boundary, this.chunks.delta({ citations: [source] })];
  }

  /**
   * Once the answer cites, each Converse text block is a text part of its own: an empty
   * `citations` tells the client's edge a new one starts, so an uncited text after a cited
   * one does not take its sources.
   */
  private textBlockBoundary(payload: JsonObject): JsonObject[] {
    const block = payload.contentBlockIndex;
    const previous = this.textBlock;
    this.textBlock = block;
    return this.cited && previous !== undefined && previous !== block
      ? [this.chunks.delta({ citations: [] })]
      : [];
  }

  /**
   * Claude's reasoning: its text in fragments, then its signature (which makes the block
   * one to send back, its text already sent), or a redacted block whole, as base64.
   */
  private reasoning(reasoning: unknown): JsonObject[] {
    if (!isJsonObject(reasoning)) {
      throw this.malformed('a reasoningContent delta that is not an object');
    }
    const { text, signature, redactedContent } = reasoning;
    if (text !== undefined) {
      if (typeof text !== 'string') throw this.malformed('a reasoning text delta that is not text');
      return text === '' ? [] : [this.chunks.reasoning(text)];
    }
    if (isNonEmptyString(signature)) {
      return [this.chunks.thinkingBlock({ type: 'thinking', thinking: '', signature })];
    }
    if (isNonEmptyString(redactedContent)) {
      return [this.chunks.thinkingBlock({ type: 'redacted_thinking', data: redactedContent })];
    }
    return []; // members added later
  }

  private toolInput(payload: JsonObject, toolUse: unknown): JsonObject[] {
    const block = this.blockIndex(payload);
    const toolIndex = this.toolIndexByBlock.get(block);
    if (toolIndex === undefined && !this.answerBlocks.has(block)) {
      throw this.malformed(`toolUse input for content block ${block}, which never started`);
    }
    const input = isJsonObject(toolUse) ? toolUse.input : undefined;
    if (typeof input !== 'string') throw this.malformed('toolUse input that is not a string');
    if (input === '') return [];
    if (toolIndex !== undefined) {
      this.toolsWithArguments.add(toolIndex);
      return [this.chunks.toolCallArguments(toolIndex, input)];
    }
    this.answerBlocks.set(block, true);
    return [this.chunks.text(input)];
  }

  /**
   * A tool call that got no input (a tool without parameters) takes none: `{}`, which
   * clients can parse and the JSON answer gives too; an answer tool's is the content.
   */
  private blockStop(payload: JsonObject): JsonObject[] {
    const block = payload.contentBlockIndex;
    if (this.answerBlocks.get(block) === false) {
      this.answerBlocks.set(block, true);
      return [this.chunks.text('{}')];
    }
    const toolIndex = typeof block === 'number' ? this.toolIndexByBlock.get(block) : undefined;
    if (toolIndex === undefined || this.toolsWithArguments.has(toolIndex)) return [];
    this.toolsWithArguments.add(toolIndex);
    return [this.chunks.toolCallArguments(toolIndex, '{}')];
  }

  private blockIndex(payload: JsonObject): number {
    const index = payload.contentBlockIndex;
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
      throw this.malformed('a content block event without a whole-number contentBlockIndex');
    }
    return index;
  }

  /**
   * A ConverseStream exception. Before the first chunk the router may still fail over,
   * so it gets the exception's own meaning (throttling is a rate limit), and a refusal
   * (REFUSALS) spent nothing; after it, the client already has part of an answer and the
   * stream is interrupted.
   */
  private failure(name: string, message: string | undefined): DataPlaneError {
    const exception = name.slice(0, 100);
    // Bedrock's own words, which may echo a key: redacted before they reach a client.
    const detail = message ? `: ${scrubbedUpstreamText(message).slice(0, MAX_DETAIL_CHARS)}` : '';
    if (this.opening.chunkSent)
      return streamInterrupted(this.backendName, `sent ${exception} mid-stream${detail}`);
    if (REFUSALS.has(exception.toLowerCase())) this.usage = NOTHING_SPENT;
    return new DataPlaneError(
      exceptionCode(exception),
      `backend "${this.backendName}" sent ${exception} before answering${detail}`,
    );
  }

  private malformed(what: string): DataPlaneError {
    return streamInterrupted(this.backendName, `sent ${what}`);
  }
}
