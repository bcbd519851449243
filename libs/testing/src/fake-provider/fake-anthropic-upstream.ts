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
const USAGE = {
  input_tokens: 20,
  cache_creation_input_tokens: 5,
  cache_read_input_tokens: 100,
  output_tokens: 9,
};

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
 * tools in the request it answers with a tool_use block calling the first tool.
 */
export class FakeAnthropicUpstream extends FakeProviderServer {
  get baseUrl(): string {
    return this.origin;
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
    return undefined;
  }

  protected override answer(call: ProviderFakeCall, response: ServerResponse, mode: AnswerMode) {
    const tools = call.body.tools as { name: string }[] | undefined;
    const tool = tools?.[0]?.name;
    if (call.body.stream === true) return this.stream(response, mode, tool);
    const content: unknown[] = tool
      ? [
          { type: 'text', text: 'Let me check.' },
          {
            type: 'tool_use',
            id: 'toolu_01A',
            name: tool,
            input: JSON.parse(ANTHROPIC_FAKE_TOOL_INPUT.join('')) as unknown,
          },
        ]
      : [{ type: 'text', text: WORDS.join('') }];
    return sendJson(response, {
      id: 'msg_01fake',
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content,
      stop_reason: tool ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: USAGE,
    });
  }

  private stream(response: ServerResponse, mode: AnswerMode, tool: string | undefined): void {
    const sse = new SseWriter(response, mode, {
      event: 'error',
      data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    });
    const send = (data: { type: string }) => sse.send(data, data.type);
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
          usage: { ...USAGE, output_tokens: 1 },
        },
      } as { type: string },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } as {
        type: string;
      },
      { type: 'ping' },
      ...(tool ? ['Let me check.'] : WORDS).map((text) => ({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text },
      })),
      { type: 'content_block_stop', index: 0 } as { type: string },
    ];
    if (tool) {
      steps.push(
        {
          type: 'content_block_start',
          index: 1,
          content_block: { type: 'tool_use', id: 'toolu_01A', name: tool, input: {} },
        } as { type: string },
        ...['', ...ANTHROPIC_FAKE_TOOL_INPUT].map((partial_json) => ({
          type: 'content_block_delta',
          index: 1,
          delta: { type: 'input_json_delta', partial_json },
        })),
        { type: 'content_block_stop', index: 1 } as { type: string },
      );
    }
    steps.push(
      {
        type: 'message_delta',
        delta: { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null },
        usage: { output_tokens: USAGE.output_tokens },
      } as { type: string },
      { type: 'message_stop' },
    );
    for (const step of steps) if (!send(step)) return;
    sse.end();
  }
}
