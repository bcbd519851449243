import type { ServerResponse } from 'node:http';
import {
  type AnswerMode,
  FakeProviderServer,
  type ProviderFakeCall,
  sendJson,
  SseWriter,
} from './fake-provider-server';

const MODEL = 'claude-sonnet-4-5-20250929';
const WORDS = ['Hello', ' from', ' Claude', '.'];
/** What the fake calls the first tool with, streamed in two JSON fragments. */
export const ANTHROPIC_FAKE_TOOL_INPUT = ['{"city": "Pa', 'ris"}'];
/** The `usage` of a message, as Anthropic reports it (input_tokens excludes the cache's). */
export interface FakeAnthropicUsage {
  readonly input_tokens: number;
  /** Prompt tokens written to the cache. */
  readonly cache_creation_input_tokens: number;
  /** Prompt tokens read from the cache. */
  readonly cache_read_input_tokens: number;
  readonly output_tokens: number;
  /** The tier the answer was served at (standard, priority, batch). */
  readonly service_tier?: string;
  /** The writes by lifetime, as Anthropic breaks them down. */
  readonly cache_creation?: {
    readonly ephemeral_5m_input_tokens: number;
    readonly ephemeral_1h_input_tokens: number;
  };
}

const DEFAULT_USAGE: FakeAnthropicUsage = {
  input_tokens: 20,
  cache_creation_input_tokens: 5,
  cache_read_input_tokens: 100,
  output_tokens: 9,
};

/** The reasoning the fake shows when a request enables thinking, and its signature. */
export const ANTHROPIC_FAKE_THINKING = {
  thinking: 'The user wants a greeting.',
  signature: 'sig-fake-1',
};

/** Thinking with a budget (Claude 4.5 and older) or adaptive (4.6 and later). */
function thinkingEnabled(body: Record<string, unknown>): boolean {
  const thinking = body.thinking as { type?: unknown } | undefined;
  return thinking?.type === 'enabled' || thinking?.type === 'adaptive';
}

/**
 * The thinking text an answer shows: none on Opus 4.7 unless the request asks for it
 * (`display: "summarized"`), as Anthropic serves it (the block comes with its signature
 * and an empty text); older models show theirs summarized by default.
 */
function shownThinking(body: Record<string, unknown>, text: string): string {
  const thinking = body.thinking as { display?: unknown } | undefined;
  const omitsByDefault = typeof body.model === 'string' && body.model.includes('claude-opus-4-7');
  const display = thinking?.display ?? (omitsByDefault ? 'omitted' : 'summarized');
  return display === 'omitted' ? '' : text;
}

/**
 * Anthropic's rule for tool use with thinking: the assistant turn that called a tool is
 * sent back starting with its thinking block, signature and all, or the request is refused.
 */
function returnsThinkingWithToolUse(body: Record<string, unknown>): boolean {
  const messages = (body.messages ?? []) as { role: string; content: unknown }[];
  const lastAssistant = messages.findLast((message) => message.role === 'assistant');
  const blocks = Array.isArray(lastAssistant?.content)
    ? (lastAssistant.content as { type: string; signature?: unknown }[])
    : [];
  if (!blocks.some((block) => block.type === 'tool_use')) return true;
  const first = blocks[0];
  return (
    first?.type === 'redacted_thinking' ||
    (first?.type === 'thinking' && typeof first.signature === 'string' && first.signature !== '')
  );
}

/**
 * Anthropic's rule for a conversation that used tools: a request whose messages carry
 * `tool_use` or `tool_result` blocks must define tools, or it is refused with a 400. (So
 * reported since 2024; a 2026 check found claude-sonnet-4-6 answering such a request, an
 * older model answering it with empty content: a translation must not count on either.)
 */
function toolBlocksWithoutTools(body: Record<string, unknown>): boolean {
  const tools = body.tools;
  if (Array.isArray(tools) && tools.length > 0) return false;
  const messages = (Array.isArray(body.messages) ? body.messages : []) as { content?: unknown }[];
  return messages.some(
    (message) =>
      Array.isArray(message.content) &&
      (message.content as { type?: unknown }[]).some(
        (block) => block.type === 'tool_use' || block.type === 'tool_result',
      ),
  );
}

/** Anthropic refuses a `tool_choice` in a request that defines no tools, none included. */
function toolChoiceWithoutTools(body: Record<string, unknown>): boolean {
  const tools = body.tools;
  return body.tool_choice !== undefined && !(Array.isArray(tools) && tools.length > 0);
}

/**
 * Whether the request asks for structured outputs (`output_config.format`): the answer's
 * text is then JSON (the fake's tool input, streamed in the same fragments).
 */
function asksStructuredOutput(body: Record<string, unknown>): boolean {
  const config = body.output_config as { format?: { type?: unknown } } | undefined;
  return config?.format?.type === 'json_schema';
}

/** The tool the model calls: the first one defined, unless `tool_choice` is none. */
function calledTool(body: Record<string, unknown>): string | undefined {
  const choice = body.tool_choice as { type?: unknown } | undefined;
  if (choice?.type === 'none') return undefined;
  const tools = body.tools as { name: string }[] | undefined;
  return tools?.[0]?.name;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/**
 * Anthropic's Messages API as documented (`/v1/messages`), plain and streaming. With
 * tools in the request (and `tool_choice` other than none) it answers with a tool_use
 * block calling the first tool. A history with tool blocks and no tools is refused.
 */
export class FakeAnthropicUpstream extends FakeProviderServer {
  private usage: FakeAnthropicUsage = DEFAULT_USAGE;
  private thinking = ANTHROPIC_FAKE_THINKING.thinking;
  /** Whether answers end on the request's first stop sequence, as a model that wrote it. */
  private stopsAtSequence = false;
  private stopReason: string | undefined;
  /** The context edits every answer says it applied (`context_management.applied_edits`). */
  private appliedEdits: readonly Record<string, unknown>[] | undefined;
  /** The error type a `stream-error` behaviour's error event names (Anthropic's types). */
  streamErrorType = 'overloaded_error';

  get baseUrl(): string {
    return this.origin;
  }

  /** The usage every answer reports from now on (plain, and a stream's message_start). */
  reportUsage(usage: FakeAnthropicUsage): this {
    this.usage = usage;
    return this;
  }

  /** The thinking text every answer that thinks shows from now on (same signature). */
  thinkWith(thinking: string): this {
    this.thinking = thinking;
    return this;
  }

  /**
   * From now on an answer to a request with `stop_sequences` ends on its first one:
   * `stop_reason: "stop_sequence"` with the sequence in `stop_sequence`.
   */
  stopAtSequence(): this {
    this.stopsAtSequence = true;
    return this;
  }

  /**
   * From now on each answer to a request with `context_management` says these edits were
   * applied: in the message's `context_management`, a stream's in message_delta's.
   */
  applyEdits(edits: readonly Record<string, unknown>[]): this {
    this.appliedEdits = edits;
    return this;
  }

  /** What an answer to `body` says of its context edits; none without context_management. */
  private contextManagement(body: Record<string, unknown>): Record<string, unknown> {
    if (body.context_management === undefined || this.appliedEdits === undefined) return {};
    return { context_management: { applied_edits: this.appliedEdits } };
  }

  /**
   * The usage an answer to `body` reports: where it ran (`inference_geo`, as Anthropic
   * names it for a request that asks for a geography) beside the counts.
   */
  private usageFor(body: Record<string, unknown>): Record<string, unknown> {
    const geo = body.inference_geo;
    return typeof geo === 'string' ? { ...this.usage, inference_geo: geo } : { ...this.usage };
  }

  /** Ends each answer without a tool call with this stop_reason (a newer model's, say). */
  stopWith(reason: string): this {
    this.stopReason = reason;
    return this;
  }

  override reset(): void {
    super.reset();
    this.stopReason = undefined;
    this.appliedEdits = undefined;
    this.usage = DEFAULT_USAGE;
    this.thinking = ANTHROPIC_FAKE_THINKING.thinking;
    this.stopsAtSequence = false;
    this.streamErrorType = 'overloaded_error';
  }

  /** How an answer without a tool call ends: at a stop sequence, if told to, or its end. */
  private endOf(body: Record<string, unknown>): {
    stop_reason: string;
    stop_sequence: string | null;
  } {
    const sequences = body.stop_sequences;
    const first = Array.isArray(sequences) ? sequences[0] : undefined;
    if (this.stopReason !== undefined) return { stop_reason: this.stopReason, stop_sequence: null };
    if (this.stopsAtSequence && typeof first === 'string') {
      return { stop_reason: 'stop_sequence', stop_sequence: first };
    }
    return { stop_reason: 'end_turn', stop_sequence: null };
  }

  protected override errorBody(status: number): unknown {
    return {
      type: 'error',
      error: { type: ERROR_TYPES[status] ?? 'api_error', message: `fake anthropic ${status}` },
    };
  }

  protected override reject(call: ProviderFakeCall): number | undefined {
    if (call.path !== '/v1/messages') return 404;
    if (!call.headers['x-api-key'] || !call.headers['anthropic-version']) return 401;
    if (thinkingEnabled(call.body) && !returnsThinkingWithToolUse(call.body)) return 400;
    return undefined;
  }

  protected override answer(call: ProviderFakeCall, response: ServerResponse, mode: AnswerMode) {
    if (toolBlocksWithoutTools(call.body)) {
      const message =
        'Requests which include `tool_use` or `tool_result` blocks must define tools.';
      return sendJson(response, { type: 'error', error: { type: ERROR_TYPES[400], message } }, 400);
    }
    if (toolChoiceWithoutTools(call.body)) {
      // The fake's wording: the rule is reported, Anthropic's message is not.
      const message = 'tool_choice may only be specified while providing tools.';
      return sendJson(response, { type: 'error', error: { type: ERROR_TYPES[400], message } }, 400);
    }
    const structured = asksStructuredOutput(call.body);
    // Asked for structured output, the model answers in it rather than calling a tool.
    const tool = structured ? undefined : calledTool(call.body);
    const thinks = thinkingEnabled(call.body);
    const words = structured ? ANTHROPIC_FAKE_TOOL_INPUT : WORDS;
    if (call.body.stream === true) {
      const end = tool ? { stop_reason: 'tool_use', stop_sequence: null } : this.endOf(call.body);
      return this.stream(
        call.body,
        response,
        mode,
        tool,
        thinks,
        shownThinking(call.body, this.thinking),
        end,
        words,
      );
    }
    const answer: unknown[] = tool
      ? [
          { type: 'text', text: 'Let me check.' },
          {
            type: 'tool_use',
            id: 'toolu_01A',
            name: tool,
            input: JSON.parse(ANTHROPIC_FAKE_TOOL_INPUT.join('')) as unknown,
          },
        ]
      : [{ type: 'text', text: words.join('') }];
    const thinking = {
      type: 'thinking',
      ...ANTHROPIC_FAKE_THINKING,
      thinking: shownThinking(call.body, this.thinking),
    };
    const content = thinks ? [thinking, ...answer] : answer;
    return sendJson(response, {
      id: 'msg_01fake',
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content,
      ...(tool ? { stop_reason: 'tool_use', stop_sequence: null } : this.endOf(call.body)),
      usage: this.usageFor(call.body),
      ...this.contextManagement(call.body),
    });
  }

  private stream(
    body: Record<string, unknown>,
    response: ServerResponse,
    mode: AnswerMode,
    tool: string | undefined,
    thinks: boolean,
    thought: string,
    end: { stop_reason: string; stop_sequence: string | null },
    words: readonly string[],
  ): void {
    const sse = new SseWriter(response, mode, {
      event: 'error',
      data: { type: 'error', error: { type: this.streamErrorType, message: 'Overloaded' } },
    });
    const send = (data: { type: string }) => sse.send(data, data.type);
    // With thinking, the thinking block is block 0 and the answer's blocks follow it.
    const first = thinks ? 1 : 0;
    const steps: { type: string }[] = [
      {
        type: 'message_start',
        message: {
          id: 'msg_01fake',
          type: 'message',
          role: 'assistant',
          model: MODEL,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...this.usageFor(body), output_tokens: 1 },
        },
      } as { type: string },
      ...(thinks ? thinkingSteps(thought) : []),
      { type: 'content_block_start', index: first, content_block: { type: 'text', text: '' } } as {
        type: string;
      },
      { type: 'ping' },
      ...(tool ? ['Let me check.'] : words).map((text) => ({
        type: 'content_block_delta',
        index: first,
        delta: { type: 'text_delta', text },
      })),
      { type: 'content_block_stop', index: first } as { type: string },
    ];
    if (tool) {
      steps.push(
        {
          type: 'content_block_start',
          index: first + 1,
          content_block: { type: 'tool_use', id: 'toolu_01A', name: tool, input: {} },
        } as { type: string },
        ...['', ...ANTHROPIC_FAKE_TOOL_INPUT].map((partial_json) => ({
          type: 'content_block_delta',
          index: first + 1,
          delta: { type: 'input_json_delta', partial_json },
        })),
        { type: 'content_block_stop', index: first + 1 } as { type: string },
      );
    }
    steps.push(
      {
        type: 'message_delta',
        delta: end,
        usage: { output_tokens: this.usage.output_tokens },
        ...this.contextManagement(body),
      } as { type: string },
      { type: 'message_stop' },
    );
    for (const step of steps) if (!send(step)) return;
    sse.end();
  }
}

/**
 * A thinking block as Anthropic streams it: its text in deltas (none when omitted), then
 * its signature.
 */
function thinkingSteps(text: string): { type: string }[] {
  const parts = text === '' ? [] : [text.slice(0, 9), text.slice(9)];
  return [
    {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    },
    ...parts.map((thinking) => ({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'thinking_delta', thinking },
    })),
    {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'signature_delta', signature: ANTHROPIC_FAKE_THINKING.signature },
    },
    { type: 'content_block_stop', index: 0 },
  ] as { type: string }[];
}
