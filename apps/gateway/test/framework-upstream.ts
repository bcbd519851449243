import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

/** What every answer of this fake reports it spent, in both formats. */
export const FRAMEWORK_USAGE = { input: 21, output: 7 } as const;
export const PLAIN_ANSWER = 'Hello from the fake upstream.';
/** The arguments of a call to any tool but `get_weather`: a structured-output schema's object. */
export const PERSON = { name: 'Ada', age: 36 } as const;
export const WEATHER_ARGS = { city: 'Paris' } as const;
/** A prompt holding this word gets one streamed piece, then nothing until the caller hangs up. */
export const STALL = 'STALL';
/**
 * A prompt holding this word is answered as one that read CACHE.read tokens of its prompt
 * from the provider's cache (and, on Anthropic, wrote CACHE.write to it): OpenAI counts them
 * in prompt_tokens, Anthropic beside input_tokens.
 */
export const CACHED = 'CACHED';
export const CACHE = { read: 10, write: 5 } as const;
/** A prompt holding this word gets one streamed piece, then the connection dropped. */
export const BREAK = 'BREAK';

/** The answer a conversation gets, whichever API asked. */
type Answer = { text: string } | { tool: string; args: Json };

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: Json) =>
      typeof part.text === 'string'
        ? part.text
        : typeof part.content !== 'undefined'
          ? textOf(part.content)
          : '',
    )
    .join('');
}

function argsFor(tool: string): Json {
  return tool === 'get_weather' ? { ...WEATHER_ARGS } : { ...PERSON };
}

/**
 * A stand-in for OpenAI's Chat Completions and Anthropic's Messages APIs on one port, which
 * answers as a model would what the frameworks ask: a tool call while tools are offered and
 * none has answered, the tool's result quoted once one has, a JSON object when a schema is
 * asked for, plain text otherwise.
 */
export class FrameworkUpstream {
  readonly calls: { path: string; body: Json }[] = [];
  /** Streams the caller left before their end. */
  hungUp = 0;
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
    return `http://127.0.0.1:${this.port}`;
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
    this.calls.push({ path, body });
    response.on('close', () => {
      if (!response.writableFinished) this.hungUp++;
    });
    if (path.endsWith('/chat/completions')) return this.chat(body, response);
    if (path.endsWith('/messages')) return this.messages(body, response);
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { message: `no ${path}` } }));
  }

  private chat(body: Json, response: ServerResponse): void {
    const messages = (body.messages as Json[] | undefined) ?? [];
    const last = messages[messages.length - 1] ?? {};
    const tools = (body.tools as Json[] | undefined) ?? [];
    const format = (body.response_format as Json | undefined)?.type;
    const forced = ((body.tool_choice as Json | undefined)?.function as Json | undefined)?.name;
    const firstTool = ((tools[0]?.function as Json | undefined)?.name as string) ?? '';
    const answer: Answer =
      last.role === 'tool'
        ? { text: `The tool said: ${textOf(last.content)}` }
        : tools.length > 0
          ? {
              tool: (forced as string) ?? firstTool,
              args: argsFor((forced as string) ?? firstTool),
            }
          : format === 'json_schema' || format === 'json_object'
            ? { text: JSON.stringify(PERSON) }
            : { text: PLAIN_ANSWER };
    const cached = textOf(last.content).includes(CACHED);
    const prompt = FRAMEWORK_USAGE.input + (cached ? CACHE.read : 0);
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: FRAMEWORK_USAGE.output,
      total_tokens: prompt + FRAMEWORK_USAGE.output,
      ...(cached ? { prompt_tokens_details: { cached_tokens: CACHE.read } } : {}),
    };
    const base = { id: 'chatcmpl-fw', created: 1_700_000_000, model: body.model };
    const stall = textOf(last.content).includes(STALL);
    const broken = textOf(last.content).includes(BREAK);
    if (body.stream !== true) {
      const message =
        'text' in answer
          ? { role: 'assistant', content: answer.text }
          : {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_fw1',
                  type: 'function',
                  function: { name: answer.tool, arguments: JSON.stringify(answer.args) },
                },
              ],
            };
      const finish = 'text' in answer ? 'stop' : 'tool_calls';
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [{ index: 0, message, finish_reason: finish }],
          usage,
        }),
      );
      return;
    }
    const sse = sseTo(response);
    const chunk = (delta: Json, finish: string | null = null) =>
      sse({
        ...base,
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
    if ('text' in answer) {
      const words = answer.text.split(/(?= )/);
      chunk({ role: 'assistant', content: words[0] });
      if (stall) return; // left open: only the caller hanging up ends it
      if (broken) return void setTimeout(() => response.destroy(), 20);
      for (const word of words.slice(1)) chunk({ content: word });
      chunk({}, 'stop');
    } else {
      const args = JSON.stringify(answer.args);
      const half = Math.floor(args.length / 2);
      chunk({
        role: 'assistant',
        tool_calls: [
          {
            index: 0,
            id: 'call_fw1',
            type: 'function',
            function: { name: answer.tool, arguments: args.slice(0, half) },
          },
        ],
      });
      chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(half) } }] });
      chunk({}, 'tool_calls');
    }
    const includeUsage = (body.stream_options as Json | undefined)?.include_usage === true;
    if (includeUsage) sse({ ...base, object: 'chat.completion.chunk', choices: [], usage });
    sse('[DONE]');
    response.end();
  }

  private messages(body: Json, response: ServerResponse): void {
    const messages = (body.messages as Json[] | undefined) ?? [];
    const last = messages[messages.length - 1] ?? {};
    const content = Array.isArray(last.content) ? (last.content as Json[]) : [];
    const toolResult = content.find((part) => part.type === 'tool_result');
    const tools = ((body.tools as Json[] | undefined) ?? []).filter(
      (tool) => tool.name !== undefined,
    );
    const choice = body.tool_choice as Json | undefined;
    const forced = choice?.type === 'tool' ? (choice.name as string) : undefined;
    const firstTool = (tools[0]?.name as string | undefined) ?? '';
    const structured =
      body.output_format !== undefined ||
      (body.output_config as Json | undefined)?.format !== undefined;
    const answer: Answer = toolResult
      ? { text: `The tool said: ${textOf(toolResult.content)}` }
      : tools.length > 0 && !structured
        ? { tool: forced ?? firstTool, args: argsFor(forced ?? firstTool) }
        : structured
          ? { text: JSON.stringify(PERSON) }
          : { text: PLAIN_ANSWER };
    const stall = textOf(last.content).includes(STALL);
    const broken = textOf(last.content).includes(BREAK);
    const id = 'msg_fw1';
    const inputUsage = {
      input_tokens: FRAMEWORK_USAGE.input,
      ...(textOf(last.content).includes(CACHED)
        ? { cache_read_input_tokens: CACHE.read, cache_creation_input_tokens: CACHE.write }
        : {}),
    };
    const stopReason = 'text' in answer ? 'end_turn' : 'tool_use';
    if (body.stream !== true) {
      const block =
        'text' in answer
          ? { type: 'text', text: answer.text }
          : { type: 'tool_use', id: 'toolu_fw1', name: answer.tool, input: answer.args };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id,
          type: 'message',
          role: 'assistant',
          model: body.model,
          content: [block],
          stop_reason: stopReason,
          stop_sequence: null,
          usage: { ...inputUsage, output_tokens: FRAMEWORK_USAGE.output },
        }),
      );
      return;
    }
    const sse = sseTo(response);
    const event = (data: Json) => sse(data, data.type as string);
    event({
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...inputUsage, output_tokens: 1 },
      },
    });
    if ('text' in answer) {
      event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      const words = answer.text.split(/(?= )/);
      event({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: words[0] },
      });
      if (stall) return;
      if (broken) return void setTimeout(() => response.destroy(), 20);
      for (const word of words.slice(1)) {
        event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: word } });
      }
    } else {
      event({
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_fw1', name: answer.tool, input: {} },
      });
      const args = JSON.stringify(answer.args);
      const half = Math.floor(args.length / 2);
      for (const piece of [args.slice(0, half), args.slice(half)]) {
        event({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: piece },
        });
      }
    }
    event({ type: 'content_block_stop', index: 0 });
    event({
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: FRAMEWORK_USAGE.output },
    });
    event({ type: 'message_stop' });
    response.end();
  }
}

function sseTo(response: ServerResponse): (data: unknown, event?: string) => void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  return (data, event) => {
    const line = typeof data === 'string' ? data : JSON.stringify(data);
    response.write(`${event ? `event: ${event}\n` : ''}data: ${line}\n\n`);
  };
}
