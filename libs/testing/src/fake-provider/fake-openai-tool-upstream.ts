import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedCall } from './fake-openai-upstream';

type Json = Record<string, unknown>;

const USAGE = { prompt_tokens: 31, completion_tokens: 17, total_tokens: 48 };

/**
 * An OpenAI-compatible upstream that uses tools the way OpenAI documents: asked with
 * `tools` it says a few words and calls the first (or the forced) tool with
 * `toolArguments`; once the conversation ends with a `tool` message it answers with
 * text that quotes the tool's output. Plain and streaming (arguments in pieces). A
 * custom (free-form) tool is called with `customInput`, as OpenAI calls one
 * (`type: "custom"`, `custom.input`).
 */
export class FakeOpenAiToolUpstream {
  readonly calls: RecordedCall[] = [];
  /** The arguments of every tool call this fake makes. */
  toolArguments: Json = { city: 'Paris', unit: 'celsius' };
  /** The input of every custom tool call this fake makes. */
  customInput = '*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch';
  /**
   * DeepSeek's thinking mode, when set: every answer reasons this first (reasoning_content;
   * streamed before the text), and a conversation whose assistant turn with tool calls
   * comes back without its reasoning_content gets DeepSeek's 400.
   */
  thinking: string | undefined;
  private readonly server: Server;
  private port = 0;

  constructor() {
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  reset(): void {
    this.calls.length = 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Json;
    const path = (request.url ?? '').split('?')[0] ?? '';
    this.calls.push({ path, headers: request.headers, body });

    const model = typeof body.model === 'string' ? body.model : 'unknown';
    const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
    const last = messages[messages.length - 1];
    if (this.thinking !== undefined && messages.some(lacksReasoning)) {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify(REASONING_NOT_PASSED_BACK));
      return;
    }
    const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
    const called = forcedTool(body.tool_choice) ?? toolName(tools[0]);
    const custom = tools.some((tool) => tool.type === 'custom' && toolName(tool) === called);
    const reasoning = this.thinking;
    const answer: Answer =
      last?.role === 'tool' || tools.length === 0
        ? { reasoning, text: `The tool said: ${textOf(last?.content)}`, finish: 'stop' }
        : {
            reasoning,
            text: 'Let me look that up.',
            toolCall: {
              id: `call_${this.calls.length}`,
              name: called,
              arguments: custom ? this.customInput : JSON.stringify(this.toolArguments),
              custom,
            },
            finish: 'tool_calls',
          };
    if (body.stream === true) return stream(response, model, answer, body);
    const message: Json = { role: 'assistant', content: answer.text };
    if (answer.reasoning !== undefined) message.reasoning_content = answer.reasoning;
    if (answer.toolCall) {
      const { id, name, arguments: args, custom: isCustom } = answer.toolCall;
      message.tool_calls = [
        isCustom
          ? { id, type: 'custom', custom: { name, input: args } }
          : { id, type: 'function', function: { name, arguments: args } },
      ];
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        id: 'chatcmpl-tools',
        object: 'chat.completion',
        created: 1_700_000_000,
        model,
        choices: [{ index: 0, message, finish_reason: answer.finish }],
        usage: USAGE,
      }),
    );
  }
}

/** DeepSeek's answer to a tool-call turn sent back without its reasoning, in thinking mode. */
const REASONING_NOT_PASSED_BACK = {
  error: {
    message: 'The reasoning_content in the thinking mode must be passed back to the API.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_request_error',
  },
};

function lacksReasoning(message: Json): boolean {
  return (
    message.role === 'assistant' &&
    Array.isArray(message.tool_calls) &&
    message.tool_calls.length > 0 &&
    typeof message.reasoning_content !== 'string'
  );
}

interface Answer {
  readonly reasoning?: string;
  readonly text: string;
  readonly toolCall?: {
    readonly id: string;
    readonly name: string;
    /** A function's JSON arguments, or a custom tool's free-form input. */
    readonly arguments: string;
    readonly custom: boolean;
  };
  readonly finish: 'stop' | 'tool_calls';
}

function textOf(content: unknown): string {
  return typeof content === 'string' ? content : JSON.stringify(content ?? '');
}

function toolName(tool: Json | undefined): string {
  const fn = (tool?.type === 'custom' ? tool.custom : tool?.function) as Json | undefined;
  return typeof fn?.name === 'string' ? fn.name : 'unknown_tool';
}

function forcedTool(choice: unknown): string | undefined {
  const named = choice as Json | null;
  const fn = (named?.type === 'custom' ? named.custom : named?.function) as Json | undefined;
  return typeof fn?.name === 'string' ? fn.name : undefined;
}

function stream(response: ServerResponse, model: string, answer: Answer, body: Json): void {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  const base = {
    id: 'chatcmpl-tools',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model,
  };
  const send = (choice: Json) =>
    response.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, ...choice }] })}\n\n`);
  send({ delta: { role: 'assistant', content: '' }, finish_reason: null });
  for (const word of answer.reasoning?.split(/(?<= )/) ?? []) {
    send({ delta: { reasoning_content: word }, finish_reason: null });
  }
  for (const word of answer.text.split(/(?<= )/)) {
    send({ delta: { content: word }, finish_reason: null });
  }
  if (answer.toolCall) {
    const { id, name, arguments: args, custom } = answer.toolCall;
    const piece = (text: string): Json =>
      custom ? { custom: { input: text } } : { function: { arguments: text } };
    const first = custom
      ? { type: 'custom', custom: { name, input: '' } }
      : { type: 'function', function: { name, arguments: '' } };
    send({ delta: { tool_calls: [{ index: 0, id, ...first }] }, finish_reason: null });
    // Arguments arrive in pieces that are not JSON on their own, as OpenAI sends them.
    const cut = Math.ceil(args.length / 3);
    for (let at = 0; at < args.length; at += cut) {
      send({
        delta: { tool_calls: [{ index: 0, ...piece(args.slice(at, at + cut)) }] },
        finish_reason: null,
      });
    }
  }
  send({ delta: {}, finish_reason: answer.finish });
  if ((body.stream_options as Json | undefined)?.include_usage === true) {
    response.write(`data: ${JSON.stringify({ ...base, choices: [], usage: USAGE })}\n\n`);
  }
  response.end('data: [DONE]\n\n');
}
