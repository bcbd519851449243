// A backend that answers whatever the current case scripts, and the broken answers of
// each provider's API it is scripted with: garbage (bytes, truncated JSON, wrong shapes,
// streams cut short, keys echoed) and well-formed answers with a field of a wrong type.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { pathsOf, withChange, type Json, type Rng } from './seeded-json';

export type Provider = 'openai' | 'anthropic' | 'gemini';

export interface Scripted {
  readonly status: number;
  readonly contentType: string;
  readonly parts: readonly Buffer[];
  /** Drop the connection after the parts instead of ending the response. */
  readonly drop: boolean;
  /** Send nothing more and keep the connection open (a backend stuck mid-answer, or before
   * its headers when there are no parts). */
  readonly stall?: boolean;
  readonly label: string;
  /** Headers beside the content type. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ScriptedCall {
  readonly path: string;
  readonly stream: boolean;
  readonly body: Record<string, unknown>;
}

export class ScriptedUpstream {
  calls = 0;
  script: (call: ScriptedCall) => Scripted = () => ({
    status: 500,
    contentType: 'text/plain',
    parts: [Buffer.from('no script')],
    drop: false,
    label: 'none',
  });
  private readonly server = createServer(
    (request, response) => void this.handle(request, response),
  );

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      // answered all the same
    }
    const path = request.url ?? '/';
    this.calls++;
    const answer = this.script({
      path,
      body,
      stream: body.stream === true || path.includes('streamGenerateContent'),
    });
    // Stalled with nothing to send: not even the headers.
    if (answer.stall && answer.parts.length === 0) return;
    response.writeHead(answer.status, { ...answer.headers, 'content-type': answer.contentType });
    for (const part of answer.parts) response.write(part);
    if (answer.stall) return;
    if (answer.drop) setTimeout(() => response.destroy(), 10);
    else response.end();
  }
}

/** A well-formed answer of each provider, plain, to truncate or reshape. */
export function plainAnswer(provider: Provider, model: string): Json {
  switch (provider) {
    case 'openai':
      return {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hello there' },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      };
    case 'anthropic':
      return {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model,
        content: [{ type: 'text', text: 'Hello there' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 3, output_tokens: 2 },
      };
    case 'gemini':
      return {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'Hello there' }] },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
      };
  }
}

/** One SSE frame, named when `name` is given (Anthropic's streams name each). */
function data(value: Json, name?: string): string {
  return `${name ? `event: ${name}\n` : ''}data: ${JSON.stringify(value)}\n\n`;
}

/** An Anthropic stream event, named by its type. */
function event(value: { type: string } & Record<string, Json>): string {
  return data(value, value.type);
}

/** An Anthropic stream's opening event: message `id`, nothing generated yet. */
function messageStart(id: string, model: string): { type: string } & Record<string, Json> {
  return {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 3, output_tokens: 1 },
    },
  };
}

/** A provider's stream as SSE frames, the last frame(s) the ones that finish it. */
export function streamFrames(
  provider: Provider,
  model: string,
): { frames: string[]; finishing: number } {
  switch (provider) {
    case 'openai': {
      const chunk = (delta: Json, finish: string | null) =>
        data({
          id: 'c1',
          object: 'chat.completion.chunk',
          created: 1,
          model,
          choices: [{ index: 0, delta, finish_reason: finish }],
        });
      return {
        frames: [
          chunk({ role: 'assistant', content: '' }, null),
          chunk({ content: 'Hello' }, null),
          chunk({ content: ' there' }, null),
          chunk({}, 'stop'),
          'data: [DONE]\n\n',
        ],
        finishing: 2,
      };
    }
    case 'anthropic': {
      return {
        frames: [
          event(messageStart('msg_1', model)),
          event({
            type: 'content_block_start',
            index: 0,
            content_block: { type: 'text', text: '' },
          }),
          event({
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'text_delta', text: 'Hello' },
          }),
          event({
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'text_delta', text: ' there' },
          }),
          event({ type: 'content_block_stop', index: 0 }),
          event({
            type: 'message_delta',
            delta: { stop_reason: 'end_turn', stop_sequence: null },
            usage: { output_tokens: 2 },
          }),
          event({ type: 'message_stop' }),
        ],
        finishing: 3,
      };
    }
    case 'gemini': {
      const chunk = (text: string, last: boolean) =>
        data({
          candidates: [
            {
              content: { role: 'model', parts: [{ text }] },
              ...(last ? { finishReason: 'STOP' } : {}),
              index: 0,
            },
          ],
          usageMetadata: { promptTokenCount: 3, totalTokenCount: 5 },
        });
      return {
        frames: [chunk('Hello', false), chunk(' there', false), chunk('!', true)],
        finishing: 1,
      };
    }
  }
}

export const WRONG_SHAPES: readonly Json[] = [
  {},
  [],
  null,
  42,
  'a string',
  { choices: 'x' },
  { choices: [null] },
  { choices: [{ message: null }] },
  { choices: [{ message: { content: 5 } }] },
  { content: 5 },
  { content: [{ type: 'text', text: 7 }] },
  { candidates: 'x' },
  { candidates: [{ content: { parts: 'x' } }] },
  { data: 'x' },
  { data: [{ embedding: 'x' }] },
  { error: 'not an object' },
  { type: 'error' },
];

/** A broken answer for one call, `secret` the key the backend was sent. */
export function garbage(
  provider: Provider,
  call: ScriptedCall,
  rng: Rng,
  secret: string,
): Scripted {
  const json = (status: number, text: string | Buffer, label: string, drop = false): Scripted => ({
    status,
    contentType: 'application/json',
    parts: [typeof text === 'string' ? Buffer.from(text) : text],
    drop,
    label,
  });
  const plain = JSON.stringify(plainAnswer(provider, 'm'));
  const common: (() => Scripted)[] = [
    () => json(200, rng.bytes(1 + rng.int(300)), 'random bytes'),
    () => json(200, '', 'empty 200'),
    () => ({
      ...json(200, '<html><body>502 Bad Gateway</body></html>', 'html 200'),
      contentType: 'text/html',
    }),
    () =>
      json(rng.pick([500, 502, 503]), rng.bytes(1 + rng.int(100)), 'error status, random bytes'),
    () => json(rng.pick([400, 401, 403]), '<html>nope</html>', 'client error status, html'),
    // Some providers echo the key they were sent, in the message or a header: it must
    // reach the client in neither, whatever the status.
    () => ({
      ...json(
        rng.pick([400, 401, 403, 404, 422, 429, 500]),
        JSON.stringify(
          provider === 'anthropic'
            ? {
                type: 'error',
                error: { type: 'invalid_request_error', message: `Bad key ${secret}` },
              }
            : provider === 'gemini'
              ? {
                  error: {
                    code: 400,
                    message: `API key ${secret} not valid`,
                    status: 'INVALID_ARGUMENT',
                  },
                }
              : {
                  error: {
                    message: `Incorrect API key provided: ${secret}`,
                    type: 'invalid_request_error',
                    code: 'invalid_api_key',
                  },
                },
        ),
        'key echoed in an error',
      ),
      headers: { 'www-authenticate': `Bearer ${secret}`, 'x-echoed-key': secret },
    }),
    // A coding the body is not, or one cut short.
    () => ({
      ...json(
        200,
        rng.chance(0.5) ? plain : gzipSync(Buffer.from(plain)).subarray(0, 30),
        'bad gzip',
      ),
      headers: { 'content-encoding': 'gzip' },
    }),
    () => ({ ...json(200, rng.bytes(50), 'bad br'), headers: { 'content-encoding': 'br' } }),
    () => json(200, JSON.stringify(rng.pick(WRONG_SHAPES)), 'wrong shape'),
  ];
  const plainCases: (() => Scripted)[] = [
    () => json(200, plain.slice(0, 1 + rng.int(plain.length - 2)), 'truncated JSON'),
    () =>
      json(
        200,
        plain.slice(0, 1 + rng.int(plain.length - 2)),
        'JSON cut with the connection',
        true,
      ),
  ];
  const { frames, finishing } = streamFrames(provider, 'm');
  const unfinished = frames.length - finishing;
  const sse = (parts: string[], label: string, drop: boolean): Scripted => ({
    status: 200,
    contentType: 'text/event-stream',
    parts: parts.map((part) => Buffer.from(part)),
    drop,
    label,
  });
  const streamCases: (() => Scripted)[] = [
    () => {
      const whole = frames.slice(0, 1 + rng.int(unfinished)).join('');
      const next = frames[unfinished] ?? '';
      const partial = next.slice(0, 1 + rng.int(next.length - 3));
      return sse([whole, partial], 'stream cut mid-event', true);
    },
    () => sse(frames.slice(0, 1 + rng.int(unfinished)), 'stream cut between events', true),
    () => sse(frames.slice(0, 1 + rng.int(unfinished)), 'stream ended before its finish', false),
    () =>
      sse(
        [frames[0] ?? '', `data: ${rng.pick(['{not json', '[1,', '"', 'null'])}\n\n`],
        'stream with a broken event',
        false,
      ),
    () =>
      sse(
        [frames[0] ?? '', `data: ${JSON.stringify(rng.pick(WRONG_SHAPES))}\n\n`],
        'stream with a wrong-shaped event',
        false,
      ),
    () => ({
      ...sse([], 'stream of random bytes', rng.chance(0.5)),
      parts: [rng.bytes(1 + rng.int(200))],
    }),
  ];
  const cases = [...common, ...(call.stream ? streamCases : plainCases)];
  return rng.pick(cases)();
}

/** A provider's answer calling a tool, plain. */
export function toolAnswer(provider: Provider, model: string): Json {
  switch (provider) {
    case 'openai':
      return {
        id: 'chatcmpl-2',
        object: 'chat.completion',
        created: 1,
        model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_1',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
                },
              ],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      };
    case 'anthropic':
      return {
        id: 'msg_2',
        type: 'message',
        role: 'assistant',
        model,
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
        ],
        stop_reason: 'tool_use',
        stop_sequence: null,
        usage: { input_tokens: 3, output_tokens: 2 },
      };
    case 'gemini':
      return {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
      };
  }
}

/** A provider's stream calling a tool, as SSE frames. */
export function toolStreamFrames(provider: Provider, model: string): string[] {
  switch (provider) {
    case 'openai': {
      const chunk = (delta: Json, finish: string | null) =>
        data({
          id: 'c2',
          object: 'chat.completion.chunk',
          created: 1,
          model,
          choices: [{ index: 0, delta, finish_reason: finish }],
        });
      const call = (fn: Json, head: Record<string, Json> = {}) => ({
        tool_calls: [{ index: 0, ...head, function: fn }],
      });
      return [
        chunk({ role: 'assistant', content: null }, null),
        chunk(
          call({ name: 'get_weather', arguments: '' }, { id: 'call_1', type: 'function' }),
          null,
        ),
        chunk(call({ arguments: '{"city":' }), null),
        chunk(call({ arguments: '"Paris"}' }), null),
        chunk({}, 'tool_calls'),
        'data: [DONE]\n\n',
      ];
    }
    case 'anthropic': {
      const partial = (json: string) =>
        event({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: json },
        });
      return [
        event(messageStart('msg_2', model)),
        event({
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} },
        }),
        partial('{"city":'),
        partial('"Paris"}'),
        event({ type: 'content_block_stop', index: 0 }),
        event({
          type: 'message_delta',
          delta: { stop_reason: 'tool_use', stop_sequence: null },
          usage: { output_tokens: 2 },
        }),
        event({ type: 'message_stop' }),
      ];
    }
    case 'gemini':
      return [
        data({
          candidates: [{ content: { role: 'model', parts: [{ text: 'Checking.' }] }, index: 0 }],
        }),
        data({
          candidates: [
            {
              content: {
                role: 'model',
                parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }],
              },
              finishReason: 'STOP',
              index: 0,
            },
          ],
          usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
        }),
      ];
  }
}

export const ANSWER_VALUES: readonly Json[] = [
  null,
  5,
  -1,
  'x',
  '',
  true,
  [],
  [null],
  {},
  { a: 1 },
];

/** `value` with one or two of its fields (at any depth) replaced by a value of another type. */
export function reshapedJson(value: Json, rng: Rng): { json: Json; what: string } {
  let json = value;
  const steps: string[] = [];
  for (let i = 0; i < 1 + rng.int(2); i++) {
    const paths = pathsOf(json);
    if (paths.length === 0) break;
    const path = rng.pick(paths);
    const replacement = rng.pick(ANSWER_VALUES);
    json = withChange(json, path, (parent, key) => {
      (parent as Record<string | number, Json>)[key] = replacement;
    });
    steps.push(`${JSON.stringify(path)}=${JSON.stringify(replacement)}`);
  }
  return { json, what: steps.join(', ') };
}

/** A well-formed answer (plain, or a whole stream) with a field or two of a wrong type. */
export function reshaped(provider: Provider, call: ScriptedCall, rng: Rng): Scripted {
  if (!call.stream) {
    const base = rng.chance(0.5) ? plainAnswer(provider, 'm') : toolAnswer(provider, 'm');
    const { json, what } = reshapedJson(base, rng);
    return {
      status: 200,
      contentType: 'application/json',
      parts: [Buffer.from(JSON.stringify(json))],
      drop: false,
      label: `reshaped ${what}`,
    };
  }
  const frames = rng.chance(0.5)
    ? streamFrames(provider, 'm').frames
    : toolStreamFrames(provider, 'm');
  const events = frames.filter((frame) => !frame.includes('[DONE]'));
  const at = rng.int(events.length);
  const frame = events[at] ?? '';
  const dataAt = frame.indexOf('data: ') + 6;
  const { json, what } = reshapedJson(JSON.parse(frame.slice(dataAt)) as Json, rng);
  const changed = `${frame.slice(0, dataAt)}${JSON.stringify(json)}\n\n`;
  return {
    status: 200,
    contentType: 'text/event-stream',
    parts: frames.map((f) => Buffer.from(f === frame ? changed : f)),
    drop: false,
    label: `reshaped event ${at}: ${what}`,
  };
}
