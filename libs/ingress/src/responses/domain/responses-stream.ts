import {
  DataPlaneError,
  DataPlaneErrorCode,
  reasoningTextOf,
  type JsonObject,
  type ThinkingBlock,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { thinkingBlocksOf } from './encrypted-reasoning';
import { blocksToKeep } from './reasoning-text-back';
import { isBlank, isWholeJsonObject } from '../../domain/whole-arguments';
import { refusalText } from '../../domain/refusal-text';
import {
  fallbackCallId,
  incompleteDetails,
  isCustomToolCall,
  itemIdStem,
  keepsReasoningBlocks,
  outputItemId,
  outputText,
  reasoningItem,
  refusalContent,
  reasoningTokensOf,
  responseError,
  servedTierOf,
  responseObject,
  responseUsage,
  type ItemStatus,
  type MessageContent,
  type OutputItem,
  type ResponseContext,
  type ResponseObject,
  withoutReasoningBlocks,
} from './responses-response';

/** One event of a Responses stream; its SSE event name is its `type`. */
export interface ResponseStreamEvent {
  readonly type: string;
  readonly sequence_number: number;
  readonly [field: string]: unknown;
}

/** A reasoning item being streamed: its summary text, and the blocks to send back. */
interface OpenReasoning {
  readonly kind: 'reasoning';
  readonly index: number;
  readonly id: string;
  text: string;
  readonly blocks: ThinkingBlock[];
}

/** A message's content part: answer text, or a refusal (only the last one is still open). */
interface OpenPart {
  readonly type: 'output_text' | 'refusal';
  text: string;
}

/** A message being streamed: its parts so far. */
interface OpenMessage {
  readonly kind: 'message';
  readonly index: number;
  readonly id: string;
  readonly parts: OpenPart[];
}

/** A tool call's item being streamed: a function's call or a custom tool's. */
interface OpenToolCall {
  readonly kind: 'tool_call';
  readonly index: number;
  readonly id: string;
  readonly toolIndex: number;
  readonly callId: string;
  readonly name: string;
  /** A custom tool's call: `args` is its free-form input. */
  readonly custom: boolean;
  args: string;
}

/** The output item being streamed, with what it has gathered so far. */
type OpenItem = OpenReasoning | OpenMessage | OpenToolCall;

/** A tool call that began while another call's item was still streaming: not yet an item. */
interface HeldToolCall {
  /** The fragment that began it: its id, whole name and kind. */
  readonly first: JsonObject;
  readonly custom: boolean;
  args: string;
}

/**
 * Turns a stream of OpenAI chat.completion.chunk objects into the Responses API's event
 * sequence: response.created and response.in_progress; then per output item
 * response.output_item.added, its content events and response.output_item.done; then
 * response.completed (or response.incomplete) carrying the whole Response with its usage.
 * Reasoning (`delta.reasoning_content`) is a reasoning item's summary; text a message's
 * output_text (a refusal, `delta.refusal`, its refusal part); each tool call a
 * function_call item whose arguments arrive as deltas, or a custom tool's call
 * (custom_tool_call) whose input arrives as response.custom_tool_call_input.delta.
 * Items never overlap. A backend may interleave parallel calls' fragments (call 0, call 1,
 * call 0 again): a call that begins while the streaming call's arguments are not yet a
 * whole JSON object is held, its fragments gathered, until that item ends (its arguments
 * whole, other content, or the finish); then it streams, in the order the calls began.
 * Calls sent one after another (OpenAI, vLLM) each stream as they come.
 * When the request's `include` asked for `reasoning.encrypted_content`, the thinking
 * blocks (`delta.thinking_blocks`: a signature ending the text streamed before it, or a
 * redacted block) are gathered on the reasoning item, which carries them when done.
 * For a backend that wants its reasoning text back (`reasoningTextBack`), the done item
 * carries the text as a `reasoning_text` part too, and as an unsigned block when it has
 * none, as a JSON answer's does.
 * Every event carries the next `sequence_number`, from 0.
 *
 * Usage is known only once the stream has ended (our answers carry it as a promise), so
 * it is reported in the final event alone, as OpenAI does.
 */
export class ResponseStreamTranslator {
  private sequence = 0;
  private readonly output: OutputItem[] = [];
  private open: OpenItem | undefined;
  /** Chat tool-call indexes whose call item (a function's or a custom tool's) is done. */
  private readonly closedTools = new Set<number>();
  /** Calls held behind the streaming call's item, by chat index; none on the common path. */
  private held: Map<number, HeldToolCall> | undefined;
  private finishReason: unknown = null;
  private reasoningTokens = 0;
  /** The tier the backend's chunks say it served at (OpenAI names it on every chunk). */
  private serviceTier: string | undefined;
  /** Reasoning text streamed since the last signature: the next signed block's text. */
  private unsignedText = '';
  /** Blocks are gathered to be shown (`include`) or kept with the stored Response. */
  private readonly keepBlocks: boolean;
  /** The finished Response with every reasoning item's blocks: what the gateway stores. */
  private finished?: ResponseObject;
  /** Events a chunk made before it broke the stream: sent ahead of the failure. */
  private unsent: ResponseStreamEvent[] = [];
  /** What every output item's id is made of. */
  private readonly itemIdStem: string;

  constructor(private readonly context: ResponseContext) {
    this.keepBlocks = keepsReasoningBlocks(context);
    this.itemIdStem = itemIdStem(context);
  }

  /** The Response the stream finished with (completed or incomplete); none if it broke. */
  get finalResponse(): ResponseObject | undefined {
    return this.finished;
  }

  /** The opening events, sent before the backend's first chunk. */
  start(): ResponseStreamEvent[] {
    const response = responseObject(this.context, 'in_progress');
    return [
      this.event('response.created', { response }),
      this.event('response.in_progress', { response }),
    ];
  }

  /** The events one chunk produces (often one, sometimes none). */
  push(chunk: JsonObject): ResponseStreamEvent[] {
    const events: ResponseStreamEvent[] = [];
    try {
      this.translate(chunk, events);
    } catch (error) {
      // Numbered and in the state response.failed shows: they go out before the failure.
      this.unsent = events;
      throw error;
    }
    return events;
  }

  private translate(chunk: JsonObject, events: ResponseStreamEvent[]): void {
    this.reasoningTokens = reasoningTokensOf(chunk.usage) || this.reasoningTokens;
    this.serviceTier = servedTierOf(chunk) ?? this.serviceTier;
    const choices = chunk.choices;
    const choice = Array.isArray(choices) ? (choices[0] as JsonObject | undefined) : undefined;
    if (!choice) return; // a usage-only chunk: usage comes from the answer itself
    const delta = (choice.delta ?? {}) as JsonObject;
    const reasoning = reasoningTextOf(delta);
    if (reasoning !== undefined) this.reasoningDelta(reasoning, events);
    if (this.keepBlocks) {
      for (const block of thinkingBlocksOf(delta.thinking_blocks)) {
        this.thinkingBlock(block, events);
      }
    }
    if (typeof delta.content === 'string' && delta.content.length > 0) {
      this.textDelta('output_text', delta.content, events);
    }
    const refusal = refusalText(delta);
    if (refusal.length > 0) this.textDelta('refusal', refusal, events);
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls as JsonObject[]) this.toolCallDelta(call, events);
    }
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
      this.finishReason = choice.finish_reason;
    }
  }

  /** The closing events, once the stream ended cleanly and its usage is known. */
  finish(usage: TokenUsage): ResponseStreamEvent[] {
    const events: ResponseStreamEvent[] = [];
    const incomplete = incompleteDetails(this.finishReason);
    // Like a JSON answer, an answer with nothing in it still has its (empty) message.
    if (this.output.length === 0 && !this.open) {
      this.openPart(this.openMessage(events), 'output_text', events);
    }
    this.closeAll(events, incomplete ? 'incomplete' : 'completed');
    const status = incomplete ? 'incomplete' : 'completed';
    const fields = {
      usage: responseUsage(usage, this.reasoningTokens),
      incompleteDetails: incomplete,
      serviceTier: this.serviceTier,
    };
    this.finished = responseObject(this.context, status, { ...fields, output: [...this.output] });
    const response = responseObject(this.context, status, {
      ...fields,
      output: this.output.map((item) => this.shown(item)),
    });
    events.push(
      this.event(incomplete ? 'response.incomplete' : 'response.completed', { response }),
    );
    return events;
  }

  /**
   * A stream that broke after it began: an `error` event (which OpenAI's SDKs raise) and
   * response.failed with the output so far, so it never reads as a finished answer. It
   * says `store: false`: nothing of a broken stream is stored, so nothing can chain from it.
   * Held calls were never announced, so they are not in it.
   */
  fail(error: DataPlaneError): ResponseStreamEvent[] {
    const { code, message, param } = error.toOpenAiBody().error;
    const output = this.open
      ? [...this.output, this.snapshot(this.open, 'incomplete')]
      : this.output;
    const unsent = this.unsent;
    this.unsent = [];
    return [
      ...unsent,
      this.event('error', { code, message, param }),
      this.event('response.failed', {
        response: responseObject({ ...this.context, store: false }, 'failed', {
          output: output.map((item) => this.shown(item)),
          error: responseError(error),
        }),
      }),
    ];
  }

  private event(type: string, fields: JsonObject): ResponseStreamEvent {
    return { type, sequence_number: this.sequence++, ...fields };
  }

  private reasoningDelta(fragment: string, events: ResponseStreamEvent[]): void {
    const item = this.openReasoning(events);
    // The summary part opens with its first text: a redacted block alone has none.
    if (item.text === '') {
      events.push(
        this.event('response.reasoning_summary_part.added', {
          item_id: item.id,
          output_index: item.index,
          summary_index: 0,
          part: { type: 'summary_text', text: '' },
        }),
      );
    }
    item.text += fragment;
    this.unsignedText += fragment;
    events.push(
      this.event('response.reasoning_summary_text.delta', {
        item_id: item.id,
        output_index: item.index,
        summary_index: 0,
        delta: fragment,
      }),
    );
  }

  /**
   * A whole block to send back: a signature completes the text streamed since the last
   * one; a redacted block stands alone.
   */
  private thinkingBlock(block: ThinkingBlock, events: ResponseStreamEvent[]): void {
    if (block.type === 'redacted_thinking') {
      this.openReasoning(events).blocks.push(block);
      return;
    }
    // An entry without a signature repeats text that came as reasoning_content (LiteLLM
    // streams its fragments so); only a signature completes a block.
    if (block.signature === '') return;
    // A backend that sends a block whole, text and signature at once, never streamed its text.
    if (this.unsignedText === '' && block.thinking !== '') {
      this.reasoningDelta(block.thinking, events);
    }
    this.openReasoning(events).blocks.push({
      type: 'thinking',
      thinking: this.unsignedText,
      signature: block.signature,
    });
    this.unsignedText = '';
  }

  private openReasoning(events: ResponseStreamEvent[]): OpenReasoning {
    if (this.open?.kind === 'reasoning') return this.open;
    this.closeAll(events, 'completed');
    const index = this.output.length;
    const item: OpenReasoning = {
      kind: 'reasoning',
      index,
      id: outputItemId('rs', this.itemIdStem, index),
      text: '',
      blocks: [],
    };
    this.open = item;
    events.push(
      this.event('response.output_item.added', {
        output_index: index,
        item: this.snapshot(item, 'in_progress', true),
      }),
    );
    return item;
  }

  /** Answer text or refusal text: into the message's open part of that type, else a new one. */
  private textDelta(type: OpenPart['type'], fragment: string, events: ResponseStreamEvent[]): void {
    const item = this.open?.kind === 'message' ? this.open : this.openMessage(events);
    let part = item.parts.at(-1);
    if (part?.type !== type) {
      if (part) this.closePart(item, events);
      part = this.openPart(item, type, events);
    }
    part.text += fragment;
    const where = { item_id: item.id, output_index: item.index };
    const contentIndex = item.parts.length - 1;
    events.push(
      type === 'output_text'
        ? this.event('response.output_text.delta', {
            ...where,
            content_index: contentIndex,
            delta: fragment,
            logprobs: [],
          })
        : this.event('response.refusal.delta', {
            ...where,
            content_index: contentIndex,
            delta: fragment,
          }),
    );
  }

  /** Adds a content part to the message, announced empty. */
  private openPart(
    item: OpenMessage,
    type: OpenPart['type'],
    events: ResponseStreamEvent[],
  ): OpenPart {
    const part: OpenPart = { type, text: '' };
    item.parts.push(part);
    events.push(
      this.event('response.content_part.added', {
        item_id: item.id,
        output_index: item.index,
        content_index: item.parts.length - 1,
        part: contentOf({ type, text: '' }),
      }),
    );
    return part;
  }

  /** Ends the message's last part: its text done, then response.content_part.done. */
  private closePart(item: OpenMessage, events: ResponseStreamEvent[]): void {
    const part = item.parts.at(-1);
    if (!part) return;
    const where = {
      item_id: item.id,
      output_index: item.index,
      content_index: item.parts.length - 1,
    };
    events.push(
      part.type === 'output_text'
        ? this.event('response.output_text.done', { ...where, text: part.text, logprobs: [] })
        : this.event('response.refusal.done', { ...where, refusal: part.text }),
      this.event('response.content_part.done', { ...where, part: contentOf(part) }),
    );
  }

  private toolCallDelta(call: JsonObject, events: ResponseStreamEvent[]): void {
    const open = this.open?.kind === 'tool_call' ? this.open : undefined;
    const toolIndex = this.toolIndexOf(call, open);
    if (open?.toolIndex === toolIndex) {
      this.argumentsDelta(open, fragmentOf(call, open.custom), events);
      if (this.held) this.releaseHeld(events);
      return;
    }
    const held = this.held?.get(toolIndex);
    if (held) {
      held.args += fragmentOf(call, held.custom);
      return;
    }
    if (this.closedTools.has(toolIndex)) {
      // Its item is done: only whitespace may follow arguments that were whole.
      if (isBlank(fragmentOf(call, false)) && isBlank(fragmentOf(call, true))) return;
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamBadResponse,
        'The backend streamed arguments of a tool call after the next one had begun',
      );
    }
    const custom = isCustomToolCall(call);
    if (open && !isComplete(open)) {
      // Parallel calls may interleave: this one waits until the streaming call's item ends.
      (this.held ??= new Map()).set(toolIndex, {
        first: call,
        custom,
        args: fragmentOf(call, custom),
      });
      return;
    }
    const item = this.openToolCall(toolIndex, call, events);
    this.argumentsDelta(item, fragmentOf(call, custom), events);
  }

  /** Adds a fragment to a call's item, streamed as an arguments (or custom input) delta. */
  private argumentsDelta(
    item: OpenToolCall,
    fragment: string,
    events: ResponseStreamEvent[],
  ): void {
    if (fragment.length === 0) return;
    item.args += fragment;
    events.push(
      this.event(
        item.custom
          ? 'response.custom_tool_call_input.delta'
          : 'response.function_call_arguments.delta',
        { item_id: item.id, output_index: item.index, delta: fragment },
      ),
    );
  }

  /**
   * Streams held calls while the call before them is complete: ends its item, then opens
   * the next held call's with the arguments it gathered (which may be complete too).
   */
  private releaseHeld(events: ResponseStreamEvent[]): void {
    const held = this.held;
    if (!held) return;
    for (const [toolIndex, call] of held) {
      if (this.open?.kind === 'tool_call' && !isComplete(this.open)) return;
      held.delete(toolIndex);
      this.streamHeld(toolIndex, call, events);
    }
    this.held = undefined;
  }

  /** Ends the open item, then streams each held call's item whole, in the order they began. */
  private closeAll(events: ResponseStreamEvent[], status: ItemStatus): void {
    this.closeItem(events, status);
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    for (const [toolIndex, call] of held) {
      this.streamHeld(toolIndex, call, events);
      this.closeItem(events, status);
    }
  }

  private streamHeld(toolIndex: number, call: HeldToolCall, events: ResponseStreamEvent[]): void {
    const item = this.openToolCall(toolIndex, call.first, events);
    this.argumentsDelta(item, call.args, events);
  }

  /** The chat tool-call index a fragment belongs to; a backend may leave it out. */
  private toolIndexOf(call: JsonObject, open: OpenItem | undefined): number {
    if (typeof call.index === 'number') return call.index;
    if (open?.kind !== 'tool_call') return this.closedTools.size;
    if (call.id === open.callId) return open.toolIndex;
    // With no index, a fragment without an id continues the call that began last: a held
    // one, when a call began while the streaming one's arguments were not yet whole.
    let last = open.toolIndex;
    for (const [toolIndex, held] of this.held ?? []) {
      if (call.id !== undefined && held.first.id === call.id) return toolIndex;
      last = toolIndex;
    }
    return call.id === undefined ? last : this.closedTools.size + 1 + (this.held?.size ?? 0);
  }

  /** Opens the item of a tool call's first fragment: a function's call or a custom tool's. */
  private openToolCall(
    toolIndex: number,
    call: JsonObject,
    events: ResponseStreamEvent[],
  ): OpenToolCall {
    this.closeItem(events, 'completed');
    const index = this.output.length;
    const custom = isCustomToolCall(call);
    const callId = call.id;
    const name = ((custom ? call.custom : call.function) as JsonObject | undefined)?.name;
    const item: OpenToolCall = {
      kind: 'tool_call',
      index,
      id: outputItemId(custom ? 'ctc' : 'fc', this.itemIdStem, index),
      toolIndex,
      custom,
      callId:
        typeof callId === 'string' && callId ? callId : fallbackCallId(this.itemIdStem, index),
      name: typeof name === 'string' ? name : '',
      args: '',
    };
    this.open = item;
    events.push(
      this.event('response.output_item.added', {
        output_index: index,
        item: this.snapshot(item, 'in_progress'),
      }),
    );
    return item;
  }

  /** Opens a message item; its content parts open with their first text. */
  private openMessage(events: ResponseStreamEvent[]): OpenMessage {
    this.closeAll(events, 'completed');
    const index = this.output.length;
    const item: OpenMessage = {
      kind: 'message',
      index,
      id: outputItemId('msg', this.itemIdStem, index),
      parts: [],
    };
    this.open = item;
    events.push(
      this.event('response.output_item.added', {
        output_index: index,
        item: this.snapshot(item, 'in_progress', true),
      }),
    );
    return item;
  }

  /** Ends the open item: its closing content events, then response.output_item.done. */
  private closeItem(events: ResponseStreamEvent[], status: ItemStatus): void {
    const item = this.open;
    if (!item) return;
    this.open = undefined;
    const where = { item_id: item.id, output_index: item.index };
    switch (item.kind) {
      case 'reasoning': {
        if (item.text === '') break; // no summary part was opened
        const part = { type: 'summary_text', text: item.text };
        events.push(
          this.event('response.reasoning_summary_text.done', {
            ...where,
            summary_index: 0,
            text: item.text,
          }),
          this.event('response.reasoning_summary_part.done', { ...where, summary_index: 0, part }),
        );
        break;
      }
      case 'message':
        this.closePart(item, events);
        break;
      case 'tool_call':
        this.closedTools.add(item.toolIndex);
        events.push(
          item.custom
            ? this.event('response.custom_tool_call_input.done', { ...where, input: item.args })
            : this.event('response.function_call_arguments.done', {
                ...where,
                name: item.name,
                arguments: item.args,
              }),
        );
        break;
    }
    const done = this.snapshot(item, status);
    this.output.push(done);
    events.push(
      this.event('response.output_item.done', {
        output_index: item.index,
        item: this.shown(done),
      }),
    );
  }

  /** An item as the client sees it: reasoning blocks only when it asked for them. */
  private shown(item: OutputItem): OutputItem {
    if (this.context.facts.encryptedReasoning) return item;
    return withoutReasoningBlocks([item])[0];
  }

  /** The item as the Response carries it; `empty` leaves out the parts (they are added apart). */
  private snapshot(item: OpenItem, status: ItemStatus, empty = false): OutputItem {
    switch (item.kind) {
      case 'reasoning': {
        if (empty) return reasoningItem(item.id, '', []);
        const textBack = this.context.reasoningTextBack === true;
        const blocks = this.keepBlocks ? blocksToKeep(item.blocks, item.text, textBack) : [];
        return reasoningItem(item.id, item.text, blocks, textBack);
      }
      case 'message':
        return {
          type: 'message',
          id: item.id,
          role: 'assistant',
          status,
          content: empty ? [] : item.parts.map(contentOf),
        };
      case 'tool_call':
        if (item.custom) {
          return {
            type: 'custom_tool_call',
            id: item.id,
            call_id: item.callId,
            name: item.name,
            input: item.args,
            status,
          };
        }
        return {
          type: 'function_call',
          id: item.id,
          call_id: item.callId,
          name: item.name,
          arguments: item.args,
          status,
        };
    }
  }
}

function contentOf(part: OpenPart): MessageContent {
  return part.type === 'output_text' ? outputText(part.text) : refusalContent(part.text);
}

/** A fragment's arguments (a function's call) or input (a custom tool's); '' when it has none. */
function fragmentOf(call: JsonObject, custom: boolean): string {
  const text = custom
    ? ((call.custom ?? {}) as JsonObject).input
    : ((call.function ?? {}) as JsonObject).arguments;
  return typeof text === 'string' ? text : '';
}

/** A call no later fragment can extend: a function's whose arguments are a whole object. */
function isComplete(item: OpenToolCall): boolean {
  return !item.custom && isWholeJsonObject(item.args);
}
