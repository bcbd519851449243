import type { EventSourceMessage } from 'eventsource-parser';
import type { DataPlaneError, JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { isJsonObject, isNonEmptyString } from '../core/json-shape';
import { ChunkFactory } from '../core/openai-output';
import type { StreamTranslation } from '../core/translated-stream';
import { reportedStreamError } from '../core/reported-error-status';
import { streamEventObject } from '../core/stream-event-json';
import { streamInterrupted } from '../core/upstream-http';
import { characterCount, citedContentIndex, urlCitations } from './cohere-citations';
import {
  cohereFinishReason,
  cohereUsage,
  CUT_SHORT_FINISH,
  FAILED_FINISH,
  isJsonObjectText,
  newToolCallId,
} from './cohere-response';

/** `delta.message` of an event, or an empty object when it has none. */
function messageDelta(event: JsonObject): JsonObject {
  const delta = event.delta;
  const message = isJsonObject(delta) ? delta.message : undefined;
  return isJsonObject(message) ? message : {};
}

/** The one tool call a tool-call event carries (`delta.message.tool_calls`), if any. */
function toolCallDelta(event: JsonObject): JsonObject {
  const call = messageDelta(event).tool_calls;
  return isJsonObject(call) ? call : {};
}

/** A streamed tool call: its OpenAI index, name and the arguments so far. */
interface OpenToolCall {
  readonly index: number;
  readonly name: string;
  arguments: string;
}

/**
 * Cohere's v2 chat stream into OpenAI chunks. Each tool-call-start gets the next OpenAI
 * tool-call index; the answer is complete at message-end, which carries the usage, and
 * once every tool call's arguments add up to a JSON object (unless max_tokens cut the
 * answer short). Nothing after message-end is relayed.
 */
export class CohereStreamTranslation implements StreamTranslation<EventSourceMessage> {
  finished = false;
  private readonly chunks: ChunkFactory;
  private started = false;
  private usage: TokenUsage | undefined;
  /** Every tool call started, in OpenAI index order. */
  private readonly toolCalls: OpenToolCall[] = [];
  private readonly toolCallsByCohereIndex = new Map<unknown, OpenToolCall>();
  /** Characters of answer text relayed so far, and where each text item started in them. */
  private textLength = 0;
  private readonly textItemStarts = new Map<number, number>();
  /** Characters of the tool plan, which the answer's text starts with. */
  private planLength = 0;
  /** The url_citation annotations of the citations so far, sent together at the end. */
  private readonly annotations: JsonObject[] = [];

  constructor(
    private readonly backendName: string,
    model: string,
  ) {
    this.chunks = new ChunkFactory('chatcmpl-cohere', model);
  }

  translate(message: EventSourceMessage): readonly JsonObject[] {
    if (this.finished) return [];
    const event = streamEventObject(this.backendName, message.data);
    if (message.event === 'error' || event.type === 'error' || event.error !== undefined) {
      throw this.reportedError(event);
    }
    switch (event.type) {
      case 'message-start':
        if (!this.started && typeof event.id === 'string') this.chunks.id = event.id;
        return this.opening();
      case 'content-delta':
        return this.content(event);
      case 'tool-plan-delta':
        return this.toolPlan(event);
      case 'tool-call-start':
        return this.toolCallStart(event);
      case 'tool-call-delta':
        return this.toolCallArguments(event);
      case 'citation-start':
        return this.citation(event);
      case 'message-end':
        return this.end(event);
      default:
        // content-start/end, tool-call-end, citation-end, debug, unknown
        return [];
    }
  }

  /**
   * An error event, or an OpenAI-style `{"error": {...}}` (what Cohere's compatibility
   * layer and proxies in front of it send); the answer starts at message-start.
   */
  private reportedError(event: JsonObject): DataPlaneError {
    const error = isJsonObject(event.error) ? event.error : event;
    return reportedStreamError(this.backendName, error, this.started);
  }

  reportedUsage(): TokenUsage | undefined {
    return this.usage;
  }

  usageChunk(usage: TokenUsage): JsonObject {
    return this.chunks.usage(usage);
  }

  /** The role chunk, once, before anything else the stream relays (even out of order). */
  private opening(): JsonObject[] {
    if (this.started) return [];
    this.started = true;
    return [this.chunks.role()];
  }

  /** A content-delta: a fragment of the answer's text, or of a thinking item's reasoning. */
  private content(event: JsonObject): JsonObject[] {
    const content = messageDelta(event).content;
    if (!isJsonObject(content)) return [];
    if (isNonEmptyString(content.thinking)) {
      return [...this.opening(), this.chunks.reasoning(content.thinking)];
    }
    if (isNonEmptyString(content.text)) {
      if (typeof event.index === 'number' && !this.textItemStarts.has(event.index)) {
        this.textItemStarts.set(event.index, this.textLength);
      }
      this.textLength += characterCount(content.text);
      return [...this.opening(), this.chunks.text(content.text)];
    }
    return [];
  }

  /**
   * A tool-plan-delta: a fragment of the tool plan, which is the start of the answer's text
   * (cohere-response.ts, toolPlan), counted in it so citations after it keep their place.
   */
  private toolPlan(event: JsonObject): JsonObject[] {
    const fragment = messageDelta(event).tool_plan;
    if (!isNonEmptyString(fragment)) return [];
    const length = characterCount(fragment);
    this.textLength += length;
    this.planLength += length;
    return [...this.opening(), this.chunks.text(fragment)];
  }

  /**
   * A citation-start: its citation (`delta.message.citations`, one object) as url_citation
   * annotations (cohere-citations), its span moved to where its text item started. They
   * are held for one delta at the end: the openai SDKs' stream helpers take a delta's
   * `annotations` as the whole list (openai-node keeps the last one, openai-python
   * fails on a second list whose entries have no `index`).
   */
  private citation(event: JsonObject): JsonObject[] {
    const citation = messageDelta(event).citations;
    const item = citedContentIndex(citation);
    // A citation naming no item is of the text after the tool plan, as in a JSON answer.
    const start = this.planLength;
    const offset = item === undefined ? start : (this.textItemStarts.get(item) ?? start);
    this.annotations.push(...urlCitations(citation, offset));
    return [];
  }

  /** Every citation's annotations in one delta, if there were any. */
  private annotationsDelta(): JsonObject[] {
    return this.annotations.length === 0
      ? []
      : [this.chunks.delta({ annotations: [...this.annotations] })];
  }

  private toolCallStart(event: JsonObject): JsonObject[] {
    const call = toolCallDelta(event);
    const fn = isJsonObject(call.function) ? call.function : {};
    if (!isNonEmptyString(fn.name)) {
      throw streamInterrupted(this.backendName, 'started a tool call without a function name');
    }
    const id = isNonEmptyString(call.id) ? call.id : newToolCallId();
    const open: OpenToolCall = { index: this.toolCalls.length, name: fn.name, arguments: '' };
    this.toolCalls.push(open);
    this.toolCallsByCohereIndex.set(event.index, open);
    const out = [...this.opening(), this.chunks.toolCallStart(open.index, id, open.name)];
    if (isNonEmptyString(fn.arguments)) {
      open.arguments += fn.arguments;
      out.push(this.chunks.toolCallArguments(open.index, fn.arguments));
    }
    return out;
  }

  private toolCallArguments(event: JsonObject): JsonObject[] {
    const fn = toolCallDelta(event).function;
    const fragment = isJsonObject(fn) ? fn.arguments : undefined;
    if (!isNonEmptyString(fragment)) return [];
    const open = this.toolCallsByCohereIndex.get(event.index);
    // Arguments for a call never started would be lost, leaving a call that cannot run.
    if (!open) {
      throw streamInterrupted(this.backendName, 'sent arguments for a tool call it never started');
    }
    open.arguments += fragment;
    return [this.chunks.toolCallArguments(open.index, fragment)];
  }

  private end(event: JsonObject): JsonObject[] {
    const delta = isJsonObject(event.delta) ? event.delta : {};
    this.usage = cohereUsage(delta.usage) ?? this.usage;
    const reason = delta.finish_reason;
    if (typeof reason === 'string' && FAILED_FINISH.has(reason)) {
      throw streamInterrupted(this.backendName, `ended the stream with ${reason}`);
    }
    // A call max_tokens cut short goes on as it came, as OpenAI streams one (finish: length).
    if (reason !== CUT_SHORT_FINISH) this.checkToolArguments();
    this.finished = true;
    const calledTools = this.toolCalls.length > 0;
    return [
      ...this.opening(),
      ...this.emptyArguments(),
      ...this.annotationsDelta(),
      this.chunks.finish(cohereFinishReason(reason, calledTools)),
    ];
  }

  /** Every streamed tool call must have arguments a client can parse (none become `{}`). */
  private checkToolArguments(): void {
    for (const call of this.toolCalls) {
      if (call.arguments !== '' && !isJsonObjectText(call.arguments)) {
        throw streamInterrupted(
          this.backendName,
          `sent a tool call to "${call.name}" whose arguments are not a JSON object`,
        );
      }
    }
  }

  /** `{}` for the tool calls that got no arguments: clients parse them as JSON. */
  private emptyArguments(): JsonObject[] {
    return this.toolCalls
      .filter((call) => call.arguments === '')
      .map((call) => this.chunks.toolCallArguments(call.index, '{}'));
  }
}
