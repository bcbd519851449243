import type { EventSourceMessage } from 'eventsource-parser';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  isServerToolBlockType,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { ChunkFactory } from '../core/openai-output';
import { servedTierOfAnthropic } from '../core/service-tier';
import type { StreamTranslation } from '../core/translated-stream';
import { isJsonObject, isNonEmptyString } from '../core/json-shape';
import { HeldRoleChunk } from '../core/held-role-chunk';
import { errorBeforeAnswer } from '../core/reported-error-status';
import { NOTHING_SPENT } from '../core/spent-usage';
import { withServedTier } from '../core/usage';
import { streamEventObject } from '../core/stream-event-json';
import { streamInterrupted } from '../core/upstream-http';
import {
  anthropicCounts,
  answerCounts,
  appliedContextEdits,
  anthropicFinishReason,
  anthropicStoppedAt,
  usageFromCounts,
  type AnthropicCounts,
} from './anthropic-response';

/** What an Anthropic error type looks like (overloaded_error, api_error). */
const ERROR_TYPE = /^[a-z0-9_]{1,64}$/i;
/**
 * Anthropic's "busy, try again" (a 529 when not streamed), kept as the error's code so a
 * Messages client is told the same and retries as it would.
 */
const OVERLOADED = 'overloaded_error';

/**
 * The error types by which Anthropic refuses a request rather than fails while answering
 * it: before any answer such a stream is billed nothing, as the same refusal as an HTTP
 * status (429, 529, 400) is not. An api_error may come after the prompt was read.
 */
const REFUSALS: ReadonlySet<string> = new Set([
  'rate_limit_error',
  OVERLOADED,
  'invalid_request_error',
]);

/**
 * Anthropic's SSE events into OpenAI chunks. message_start's role chunk goes out with the
 * first chunk that carries something (or a thinking block's start), so an error event
 * right after it (Anthropic sends overloaded_error so under load) still fails over.
 * Content blocks are numbered across text and tool use; OpenAI numbers tool calls alone,
 * so each tool_use block gets the next tool index. Usage starts in message_start (input, cache) and message_delta updates it; the
 * served tier, in message_start only, is named on every chunk after. Events out of order
 * are tolerated where the answer stays sound; what would make it unsound (a nameless tool
 * call, a stop without a start) interrupts the stream. Thinking blocks are the reasoning:
 * `reasoning_content` fragments, then the signature (or a redacted block) as a
 * `thinking_blocks` entry to send back. With an answer tool (`anthropic-response-format.ts`)
 * its input fragments are the content and prose is dropped, as in the JSON answer.
 */
export class AnthropicStreamTranslation implements StreamTranslation<EventSourceMessage> {
  finished = false;
  private started = false;
  /** message_start's role chunk, waiting for the first chunk with something in it. */
  private readonly opening: HeldRoleChunk;
  /** Set when the backend refused the call before answering: it spent nothing. */
  private refused = false;
  private finishSent = false;
  private readonly chunks: ChunkFactory;
  private readonly toolIndexByBlock = new Map<unknown, number>();
  private toolCount = 0;
  private readonly toolsWithArguments = new Set<number>();
  /**
   * A call's input given whole in its block's start (Anthropic-compatible servers), as JSON,
   * by block index: a tool call's or the answer tool's.
   */
  private readonly startInputs = new Map<unknown, string>();
  /** The answer tool's blocks, by block index: whether input arrived for each. */
  private readonly answerBlocks = new Map<unknown, boolean>();
  private counts: AnthropicCounts;
  /** The context edits Anthropic applied (message_delta's `context_management`). */
  private contextEdits: JsonObject | undefined;
  /** The type of the last block started, and whether a server tool's block or citation came. */
  private lastBlockType: unknown;
  private ranServerTools = false;
  /** A server tool's call, by block index: its start, and its input as it streams. */
  private readonly serverCalls = new Map<unknown, { block: JsonObject; input: string }>();

  /**
   * @param askedGeo the request's `inference_geo`, where it ran unless the answer says
   * otherwise (answerCounts).
   */
  constructor(
    private readonly backendName: string,
    model: string,
    private readonly answerTool?: string,
    askedGeo?: string,
  ) {
    this.chunks = new ChunkFactory('msg', model);
    this.opening = new HeldRoleChunk(this.chunks);
    this.counts = answerCounts(undefined, askedGeo);
  }

  translate(message: EventSourceMessage): readonly JsonObject[] {
    if (this.finished) return []; // nothing belongs to the answer after message_stop
    const event = streamEventObject(this.backendName, message.data);
    // A thinking block may send nothing until its signature (`display: "omitted"`), for
    // longer than the router's first-byte timeout: its start shows the model answering.
    return this.opening.release(this.translateEvent(event), startsThinking(event));
  }

  private translateEvent(event: JsonObject): JsonObject[] {
    switch (event.type) {
      case 'message_start':
        return this.messageStart(event);
      case 'content_block_start':
        return this.blockStart(event);
      case 'content_block_delta':
        return this.blockDelta(event);
      case 'content_block_stop':
        return this.blockStop(event);
      case 'message_delta':
        return this.messageDelta(event);
      case 'message_stop':
        return this.messageStop();
      case 'error':
        throw this.reportedError(event);
      default: // ping, and event types added later
        return [];
    }
  }

  private messageStart(event: JsonObject): JsonObject[] {
    const start = isJsonObject(event.message) ? event.message : {};
    if (isNonEmptyString(start.id)) this.chunks.id = start.id;
    if (isNonEmptyString(start.model)) this.chunks.model = start.model;
    this.addCounts(start.usage);
    // The served tier comes in message_start's usage only; every chunk after names it.
    const tier = isJsonObject(start.usage)
      ? servedTierOfAnthropic(start.usage.service_tier)
      : undefined;
    if (tier !== undefined) this.chunks.serviceTier = tier;
    if (this.started) return [];
    this.started = true;
    // Held back: an error event right after message_start comes before anything the
    // client could use, and the router may still fail over only while no chunk went out.
    this.opening.hold();
    return [];
  }

  private blockStart(event: JsonObject): JsonObject[] {
    const block = isJsonObject(event.content_block) ? event.content_block : {};
    const previous = this.lastBlockType;
    this.lastBlockType = block.type;
    if (block.type === 'text' && this.answerTool === undefined) {
      // Beside a server tool's blocks, texts are cited one by one: an empty `citations`
      // tells the Messages edge a new text block starts, so none takes the one before's.
      const boundary =
        this.ranServerTools && previous === 'text' ? [this.chunks.delta({ citations: [] })] : [];
      return isNonEmptyString(block.text) ? [...boundary, this.chunks.text(block.text)] : boundary;
    }
    // A thinking block starts empty as a rule; its text and signature follow in deltas.
    if (block.type === 'thinking' && isNonEmptyString(block.thinking)) {
      return [this.chunks.reasoning(block.thinking)];
    }
    // Redacted reasoning comes whole in its start: sent on to be sent back, never shown.
    if (block.type === 'redacted_thinking' && isNonEmptyString(block.data)) {
      return [this.chunks.thinkingBlock({ type: 'redacted_thinking', data: block.data })];
    }
    if (isServerToolBlockType(block.type)) return this.serverBlockStart(event.index, block);
    if (block.type !== 'tool_use') return [];
    if (!isNonEmptyString(block.id) || !isNonEmptyString(block.name)) {
      throw streamInterrupted(this.backendName, 'sent a tool_use block without an id or a name');
    }
    // Anthropic starts every call with `input: {}` and streams it; a server that sends it
    // whole here instead streams none, so it is the call's input unless deltas come. By
    // block index: a block index sent twice has its latest start's input.
    if (isJsonObject(block.input) && Object.keys(block.input).length > 0) {
      this.startInputs.set(event.index, JSON.stringify(block.input));
    } else {
      this.startInputs.delete(event.index);
    }
    if (this.answerTool !== undefined) return this.answerBlockStart(event.index, block.name);
    // Counted apart from the map: a block index sent twice must not hand out an index twice.
    const toolIndex = this.toolCount++;
    this.toolIndexByBlock.set(event.index, toolIndex);
    return [this.chunks.toolCallStart(toolIndex, block.id, block.name)];
  }

  private blockDelta(event: JsonObject): JsonObject[] {
    const delta = isJsonObject(event.delta) ? event.delta : {};
    if (delta.type === 'text_delta' && typeof delta.text === 'string') {
      return this.answerTool === undefined ? [this.chunks.text(delta.text)] : [];
    }
    if (delta.type === 'input_json_delta' && isNonEmptyString(delta.partial_json)) {
      const serverCall = this.serverCalls.get(event.index);
      if (serverCall) {
        serverCall.input += delta.partial_json;
        return [];
      }
      if (this.answerBlocks.has(event.index)) {
        this.answerBlocks.set(event.index, true);
        return [this.chunks.text(delta.partial_json)];
      }
      // A fragment for a block never started as tool_use has no call to go to.
      const toolIndex = this.toolIndexByBlock.get(event.index);
      if (toolIndex === undefined) return [];
      this.toolsWithArguments.add(toolIndex);
      return [this.chunks.toolCallArguments(toolIndex, delta.partial_json)];
    }
    // A cited text's source, for the text block streaming (web search's, web fetch's).
    if (delta.type === 'citations_delta' && isJsonObject(delta.citation)) {
      this.ranServerTools = true;
      return this.answerTool === undefined
        ? [this.chunks.delta({ citations: [delta.citation] })]
        : [];
    }
    return this.thinkingDelta(delta);
  }

  /**
   * A server tool's block, on in Anthropic's shape (`server_tool_blocks`): a result comes
   * whole in its start; a call's input streams, so the call goes on whole at its stop.
   */
  private serverBlockStart(index: unknown, block: JsonObject): JsonObject[] {
    this.ranServerTools = true;
    if (block.type === 'server_tool_use') {
      this.serverCalls.set(index, { block, input: '' });
      return [];
    }
    return this.answerTool === undefined ? [this.serverBlockChunk(block)] : [];
  }

  private serverBlockChunk(block: JsonObject): JsonObject {
    return this.chunks.delta({ server_tool_blocks: [block] });
  }

  /** A server tool's call once its input is whole; unreadable input is the stream's end. */
  private serverCallStop(index: unknown): JsonObject[] {
    const call = this.serverCalls.get(index);
    if (!call) return [];
    this.serverCalls.delete(index);
    let input: unknown = isJsonObject(call.block.input) ? call.block.input : {};
    if (call.input !== '') {
      try {
        input = JSON.parse(call.input);
      } catch {
        throw streamInterrupted(
          this.backendName,
          'sent a server tool call whose input is not JSON',
        );
      }
    }
    if (this.answerTool !== undefined) return [];
    return [this.serverBlockChunk({ ...call.block, input })];
  }

  /**
   * The reasoning's text in fragments, then its signature: the signature makes the block
   * one to send back, with its text already sent as the fragments.
   */
  private thinkingDelta(delta: JsonObject): JsonObject[] {
    if (delta.type === 'thinking_delta' && isNonEmptyString(delta.thinking)) {
      return [this.chunks.reasoning(delta.thinking)];
    }
    if (delta.type === 'signature_delta' && isNonEmptyString(delta.signature)) {
      return [
        this.chunks.thinkingBlock({ type: 'thinking', thinking: '', signature: delta.signature }),
      ];
    }
    return []; // deltas of types added later
  }

  /**
   * A tool call that got no input fragments takes the input its start gave, or none: `{}`,
   * which clients can parse.
   */
  private blockStop(event: JsonObject): JsonObject[] {
    if (this.serverCalls.has(event.index)) return this.serverCallStop(event.index);
    if (this.answerBlocks.get(event.index) === false) {
      this.answerBlocks.set(event.index, true);
      return [this.chunks.text(this.startInputs.get(event.index) ?? '{}')];
    }
    const toolIndex = this.toolIndexByBlock.get(event.index);
    if (toolIndex === undefined || this.toolsWithArguments.has(toolIndex)) return [];
    this.toolsWithArguments.add(toolIndex);
    return [this.chunks.toolCallArguments(toolIndex, this.startInputs.get(event.index) ?? '{}')];
  }

  /** The answer tool's call starts nothing the client sees: its input will be the content. */
  private answerBlockStart(index: unknown, name: string): JsonObject[] {
    if (name !== this.answerTool) {
      throw streamInterrupted(this.backendName, 'called a tool the request did not offer');
    }
    if (!this.answerBlocks.has(index)) this.answerBlocks.set(index, false);
    return [];
  }

  private messageDelta(event: JsonObject): JsonObject[] {
    this.addCounts(event.usage);
    this.contextEdits = appliedContextEdits(event.context_management) ?? this.contextEdits;
    const delta = isJsonObject(event.delta) ? event.delta : {};
    return isNonEmptyString(delta.stop_reason)
      ? this.finish(delta.stop_reason, anthropicStoppedAt(delta.stop_reason, delta.stop_sequence))
      : [];
  }

  private messageStop(): JsonObject[] {
    if (!this.started) {
      throw streamInterrupted(this.backendName, 'stopped a message it never started');
    }
    this.finished = true;
    // Without a message_delta's stop_reason the answer still needs its finish_reason.
    return this.finish(undefined);
  }

  /** The one finish chunk of the stream; later stop reasons change nothing. */
  private finish(stopReason: unknown, stoppedAt?: string): JsonObject[] {
    if (this.finishSent) return [];
    this.finishSent = true;
    const chunk = this.chunks.finish(
      anthropicFinishReason(stopReason, this.toolCount > 0),
      stoppedAt,
    );
    // What context editing cleared goes with the stop, for the Messages edge's message_delta.
    if (this.contextEdits) chunk.context_management = this.contextEdits;
    return [chunk];
  }

  /**
   * Counts are cumulative, so a later one replaces an earlier one; a count given as null
   * (message_delta does that for input and cache) or as garbage keeps the earlier one.
   */
  private addCounts(usage: unknown): void {
    this.counts = { ...this.counts, ...anthropicCounts(usage) };
  }

  /**
   * An error event. Before the first chunk nothing of the answer went out (message_start
   * carries none), so it means what the same error as an HTTP status would (Anthropic
   * sends overloaded_error so under load): a rate limit the router and the client can act
   * on as one, and a refusal (REFUSALS) spent nothing. After it, the stream was cut.
   */
  private reportedError(event: JsonObject): DataPlaneError {
    const error = isJsonObject(event.error) ? event.error : {};
    // Only a short type name goes into our message, never whatever text the backend sent.
    const what =
      typeof error.type === 'string' && ERROR_TYPE.test(error.type) ? error.type : 'an error';
    if (this.opening.chunkSent) {
      return new DataPlaneError(
        DataPlaneErrorCode.StreamInterrupted,
        `backend "${this.backendName}" reported ${what} mid-stream`,
        what === OVERLOADED ? { upstreamCode: OVERLOADED } : {},
      );
    }
    if (REFUSALS.has(what)) this.refused = true;
    const when = this.started ? 'before answering' : 'before its message started';
    return errorBeforeAnswer(this.backendName, error, () => `${what} ${when}`);
  }

  /** The usage counted, with the tier message_start names (priced by serviceTierFactors). */
  reportedUsage(): TokenUsage | undefined {
    if (this.refused) return NOTHING_SPENT;
    const usage = usageFromCounts(this.counts);
    return usage && withServedTier(usage, this.chunks.serviceTier);
  }

  usageChunk(usage: TokenUsage): JsonObject {
    return this.chunks.usage(usage);
  }
}

/** Whether `event` starts a thinking block, whose first chunk may be long in coming. */
function startsThinking(event: JsonObject): boolean {
  return (
    event.type === 'content_block_start' &&
    isJsonObject(event.content_block) &&
    event.content_block.type === 'thinking'
  );
}
