import type { AnthropicStreamEvent } from '@aigw/contracts';
import {
  isServerToolBlockType,
  reasoningTextOf,
  type JsonObject,
  type ThinkingBlock,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import type { MessagesRequestFacts } from './anthropic-request';
import { refusalText } from '../../domain/refusal-text';
import { isWholeJsonObject } from '../../domain/whole-arguments';
import {
  anthropicStop,
  anthropicUsageOf,
  contextManagementOf,
  messageId,
  servedTier,
  thinkingBlocksOf,
} from './anthropic-response';

type ServerToolStart = Extract<
  AnthropicStreamEvent,
  { type: 'content_block_start' }
>['content_block'];

/** A tool call's block to start: the call's first delta carries its whole name. */
interface ToolStart {
  readonly toolIndex: number;
  readonly id: string;
  readonly name: string;
}

/** A tool call that began while another call's block was streaming: not yet a block. */
interface HeldToolCall extends ToolStart {
  args: string;
}

type OpenBlock = {
  readonly index: number;
  readonly kind: 'text' | 'tool' | 'thinking' | 'redacted_thinking' | 'server_tool';
};

/**
 * Turns a stream of OpenAI chat.completion.chunk objects into Anthropic's event sequence:
 * message_start, then per content block content_block_start / _delta / _stop, then
 * message_delta (stop reason, usage) and message_stop. Reasoning becomes a thinking block
 * (thinking_delta, then signature_delta when its signature arrives) or a redacted_thinking
 * block; text becomes text_delta; each tool call becomes a tool_use block whose arguments
 * arrive as input_json_delta.
 *
 * Usage is known only when the stream has ended (our answers carry it as a promise), so
 * message_start reports zero tokens and message_delta the real counts, input included;
 * the official SDKs take both from message_delta. The cache writes' split by lifetime
 * (`cache_creation`) is null in message_start, as Anthropic's Usage allows for a count not
 * known, and given in message_delta beside the other counts (the SDKs' accumulated
 * message keeps message_start's; a client reading the events gets it). The served tier
 * (`usage.service_tier`) is in message_start, as Anthropic sends it, when the first chunk
 * names it (OpenAI's and Anthropic's do); one named only later (Bedrock's, at the end) is
 * in message_delta's usage instead.
 */
export class MessageStreamTranslator {
  private started = false;
  private open: OpenBlock | undefined;
  private nextIndex = 0;
  /** OpenAI tool-call index to the Anthropic block carrying it. */
  private readonly toolBlocks = new Map<number, number>();
  /** The streaming tool_use block's call and its input so far, while that block is open. */
  private openTool: { toolIndex: number; args: string } | undefined;
  /** Calls held behind the streaming call's block, by OpenAI index; none on the common path. */
  private held: Map<number, HeldToolCall> | undefined;
  private finishReason: unknown = null;
  private matchedStop: unknown = undefined;
  private refused = false;
  /** The served tier in Anthropic's terms, once a chunk named it. */
  private tier: { service_tier?: string } = {};
  private tierInStart = false;
  /** The context edits an Anthropic backend applied, as message_delta names them. */
  private contextEdits: ReturnType<typeof contextManagementOf> = {};
  /** Whether the open text block has had text yet (a citation after it starts another). */
  private openTextHasText = false;

  constructor(
    private readonly facts: MessagesRequestFacts,
    private readonly requestId: string,
  ) {}

  /** The events one chunk produces (often one, sometimes none). */
  push(chunk: JsonObject): AnthropicStreamEvent[] {
    const events: AnthropicStreamEvent[] = [];
    // The first tier named stands (OpenAI repeats it on every chunk).
    if (this.tier.service_tier === undefined && chunk.service_tier !== undefined) {
      this.tier = servedTier(chunk.service_tier);
    }
    this.ensureStarted(chunk.id, events);
    // What context editing cleared rides on the finish chunk; it goes in message_delta.
    if (chunk.context_management !== undefined) this.contextEdits = contextManagementOf(chunk);
    const choices = chunk.choices;
    const choice = Array.isArray(choices) ? (choices[0] as JsonObject | undefined) : undefined;
    if (!choice) return events; // a usage-only chunk: usage comes from the answer itself
    const delta = (choice.delta ?? {}) as JsonObject;

    const reasoning = reasoningTextOf(delta);
    if (reasoning !== undefined) this.thinkingDelta(reasoning, events);
    for (const block of thinkingBlocksOf(delta.thinking_blocks)) {
      this.thinkingBlockDone(block, events);
    }
    if (Array.isArray(delta.server_tool_blocks)) {
      for (const block of delta.server_tool_blocks) this.serverToolBlock(block, events);
    }
    if (Array.isArray(delta.citations)) {
      // None: a new text block starts (the next text does not continue the cited one).
      if (delta.citations.length === 0 && this.open?.kind === 'text' && this.openTextHasText) {
        this.closeBlock(events);
      }
      for (const citation of delta.citations) this.citation(citation, events);
    }
    if (typeof delta.content === 'string') this.textDelta(delta.content, events);
    // A refusal is text to Anthropic's clients, with stop_reason "refusal" at the end.
    const refusal = refusalText(delta);
    if (refusal !== '') {
      this.refused = true;
      this.textDelta(refusal, events);
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls as JsonObject[]) this.toolCallDelta(call, events);
    }
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
      this.finishReason = choice.finish_reason;
      this.matchedStop = choice.stop_reason;
    }
    return events;
  }

  /** The closing events, once the stream ended cleanly and its usage is known. */
  finish(usage: TokenUsage): AnthropicStreamEvent[] {
    const events: AnthropicStreamEvent[] = [];
    this.ensureStarted(undefined, events);
    this.startHeld(events);
    // Like a JSON answer, an empty one still has its text block.
    if (this.nextIndex === 0) this.openBlock('text', events, { type: 'text', text: '' });
    this.closeBlock(events);
    const stop = anthropicStop(
      this.finishReason,
      this.matchedStop,
      this.facts,
      this.refused,
      this.toolBlocks.size > 0,
    );
    events.push(
      {
        type: 'message_delta',
        delta: { stop_reason: stop.stop_reason, stop_sequence: stop.stop_sequence },
        usage: { ...anthropicUsageOf(usage), ...(this.tierInStart ? {} : this.tier) },
        ...this.contextEdits,
      },
      { type: 'message_stop' },
    );
    return events;
  }

  private ensureStarted(chunkId: unknown, events: AnthropicStreamEvent[]): void {
    if (this.started) return;
    this.started = true;
    events.push({
      type: 'message_start',
      message: {
        id: messageId(chunkId, this.requestId),
        type: 'message',
        role: 'assistant',
        content: [],
        model: this.facts.model,
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0, cache_creation: null, ...this.tier },
      },
    });
    this.tierInStart = this.tier.service_tier !== undefined;
  }

  /** A fragment of answer text, on the open text block or a new one. */
  private textDelta(text: string, events: AnthropicStreamEvent[]): void {
    if (text === '') return;
    const index =
      this.open?.kind === 'text'
        ? this.open.index
        : this.openBlock('text', events, { type: 'text', text: '' });
    this.openTextHasText = true;
    events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
  }

  /**
   * A server tool's call or result, a block of its own as Anthropic streams it: a call's
   * input as one input_json_delta, a result whole in its start.
   */
  private serverToolBlock(block: unknown, events: AnthropicStreamEvent[]): void {
    if (typeof block !== 'object' || block === null || Array.isArray(block)) return;
    const whole = block as JsonObject & { type: string };
    if (!isServerToolBlockType(whole.type)) return;
    if (whole.type !== 'server_tool_use') {
      this.openBlock('server_tool', events, { ...whole } as ServerToolStart);
      this.closeBlock(events);
      return;
    }
    const index = this.openBlock('server_tool', events, {
      ...whole,
      input: {},
    } as ServerToolStart);
    const input = JSON.stringify(whole.input ?? {});
    if (input !== '{}') {
      events.push({
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: input },
      });
    }
    this.closeBlock(events);
  }

  /**
   * A source of the text streaming (citations_delta). Anthropic cites a text block before
   * its text, so a citation after text begins the next text block.
   */
  private citation(citation: unknown, events: AnthropicStreamEvent[]): void {
    const index =
      this.open?.kind === 'text' && !this.openTextHasText
        ? this.open.index
        : this.openBlock('text', events, { type: 'text', text: '' });
    events.push({
      type: 'content_block_delta',
      index,
      delta: { type: 'citations_delta', citation },
    });
  }

  /** A fragment of reasoning text, on the open thinking block or a new one. */
  private thinkingDelta(thinking: string, events: AnthropicStreamEvent[]): void {
    events.push({
      type: 'content_block_delta',
      index: this.thinkingIndex(events),
      delta: { type: 'thinking_delta', thinking },
    });
  }

  /**
   * A whole reasoning block: a thinking block's signature ends the open thinking block; a
   * redacted block is a block of its own, complete at its start.
   */
  private thinkingBlockDone(block: ThinkingBlock, events: AnthropicStreamEvent[]): void {
    if (block.type === 'redacted_thinking') {
      this.openBlock('redacted_thinking', events, { type: 'redacted_thinking', data: block.data });
      this.closeBlock(events);
      return;
    }
    // An entry without a signature repeats text that came as reasoning_content (LiteLLM
    // streams its fragments so); only a signature completes a block.
    if (block.signature === '') return;
    const opened = this.open?.kind !== 'thinking';
    const index = this.thinkingIndex(events);
    // A backend that sends a block whole, text and signature at once, never streamed its text.
    if (opened && block.thinking !== '') this.thinkingDelta(block.thinking, events);
    events.push({
      type: 'content_block_delta',
      index,
      delta: { type: 'signature_delta', signature: block.signature },
    });
    this.closeBlock(events);
  }

  private thinkingIndex(events: AnthropicStreamEvent[]): number {
    return this.open?.kind === 'thinking'
      ? this.open.index
      : this.openBlock('thinking', events, { type: 'thinking', thinking: '', signature: '' });
  }

  /**
   * One delta of a streamed tool call: its first starts the tool_use block, which carries
   * the name. The providers hand each call's name on whole in that delta, also from a
   * server that streams it in pieces (StreamedToolNames), so no name is held here. Blocks
   * never overlap, and a client reads a block's input as done at its content_block_stop
   * (the Vercel AI SDK drops input after it): a backend may interleave parallel calls'
   * pieces (call 0, call 1, call 0 again), so a call that begins while the streaming
   * call's input is not yet a whole JSON object is held, its pieces gathered, until that
   * input is whole, other content comes or the answer ends; then its block starts with
   * them, in the order the calls began. Calls sent one after another pass as they come.
   */
  private toolCallDelta(call: JsonObject, events: AnthropicStreamEvent[]): void {
    const fn = (call.function ?? {}) as JsonObject;
    const toolIndex =
      typeof call.index === 'number' ? call.index : this.toolBlocks.size + (this.held?.size ?? 0);
    const args = typeof fn.arguments === 'string' ? fn.arguments : '';
    const held = this.held?.get(toolIndex);
    if (held) {
      held.args += args;
      return;
    }
    const blockIndex = this.toolBlocks.get(toolIndex);
    if (blockIndex !== undefined) {
      this.toolInputDelta(toolIndex, blockIndex, args, events);
      return;
    }
    const start: ToolStart = {
      toolIndex,
      id: typeof call.id === 'string' ? call.id : '',
      name: typeof fn.name === 'string' ? fn.name : '',
    };
    if (this.openTool && !isWholeJsonObject(this.openTool.args)) {
      (this.held ??= new Map()).set(toolIndex, { ...start, args });
      return;
    }
    this.toolInputDelta(toolIndex, this.startTool(start, events), args, events);
  }

  /** A piece of a started call's input, on its block; then the calls held behind it. */
  private toolInputDelta(
    toolIndex: number,
    blockIndex: number,
    args: string,
    events: AnthropicStreamEvent[],
  ): void {
    if (args === '') return;
    // On its block even when it is no longer the open one: text came between the pieces.
    events.push({
      type: 'content_block_delta',
      index: blockIndex,
      delta: { type: 'input_json_delta', partial_json: args },
    });
    if (this.openTool?.toolIndex !== toolIndex) return;
    this.openTool.args += args;
    if (this.held && isWholeJsonObject(this.openTool.args)) this.startHeld(events, true);
  }

  /**
   * Starts the held calls' blocks, each with the input it gathered, in the order they
   * began. Once the streaming call's input is whole (`untilOneOpen`), a held call whose
   * input is not whole yet streams on from there and the rest stay held behind it; other
   * content or the answer's end starts them all.
   */
  private startHeld(events: AnthropicStreamEvent[], untilOneOpen = false): void {
    const held = this.held;
    if (!held) return;
    for (const [toolIndex, call] of held) {
      if (untilOneOpen && this.openTool && !isWholeJsonObject(this.openTool.args)) return;
      held.delete(toolIndex);
      const blockIndex = this.startTool(call, events);
      if (call.args === '') continue;
      events.push({
        type: 'content_block_delta',
        index: blockIndex,
        delta: { type: 'input_json_delta', partial_json: call.args },
      });
      this.openTool = { toolIndex, args: call.args };
    }
    this.held = undefined;
  }

  private startTool(call: ToolStart, events: AnthropicStreamEvent[]): number {
    const blockIndex = this.openBlock('tool', events, {
      type: 'tool_use',
      id: call.id !== '' ? call.id : `toolu_${this.requestId}_${call.toolIndex}`,
      name: call.name,
      input: {},
    });
    this.toolBlocks.set(call.toolIndex, blockIndex);
    this.openTool = { toolIndex: call.toolIndex, args: '' };
    return blockIndex;
  }

  private openBlock(
    kind: OpenBlock['kind'],
    events: AnthropicStreamEvent[],
    block: Extract<AnthropicStreamEvent, { type: 'content_block_start' }>['content_block'],
  ): number {
    // Other content ends the streaming call: the calls held behind it go first.
    if (kind !== 'tool') this.startHeld(events);
    this.closeBlock(events);
    const index = this.nextIndex++;
    this.open = { index, kind };
    this.openTextHasText = false;
    events.push({ type: 'content_block_start', index, content_block: block });
    return index;
  }

  private closeBlock(events: AnthropicStreamEvent[]): void {
    if (!this.open) return;
    events.push({ type: 'content_block_stop', index: this.open.index });
    this.open = undefined;
    this.openTool = undefined;
  }
}
