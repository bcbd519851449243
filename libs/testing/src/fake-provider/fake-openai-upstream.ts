import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fakeModeration, fakeRerank } from './fake-scoring';

/** One request the fake received. */
export interface RecordedCall {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
}

/** What the fake does for one request. */
export type FakeBehaviour =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  /** Streams `chunks` text pieces, then stops without `[DONE]` after `afterChunks`. */
  | { kind: 'break-stream'; afterChunks: number }
  | { kind: 'garbage' };

/**
 * The OpenAI fake's behaviours, plus a stream that stalls: the first `afterChunks` text
 * pieces, then nothing and the connection left open, as a provider stuck mid-answer. Only
 * the caller hanging up (or `stop`) ends it.
 */
export type OpenAiFakeBehaviour =
  | FakeBehaviour
  | { kind: 'stall-stream'; afterChunks: number }
  /**
   * Answers (as `ok`) once `until` settles: a call the test keeps open for as long as its
   * checks take, where a fixed delay would end under them on a slow machine.
   */
  | { kind: 'held'; until: Promise<unknown> };

const WORDS = ['Hello', ' from', ' the', ' fake', ' upstream', '.'];
/** An OpenRouter encrypted reasoning entry: opaque, to come back as it went. */
export const ENCRYPTED_REASONING = Object.freeze({
  type: 'reasoning.encrypted',
  data: 'gAAAAB-opaque-jane.doe@example.com',
  format: 'openai-responses-v1',
  index: 1,
});

/** The `usage` of a chat completion, as OpenAI reports it. */
export interface FakeOpenAiUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
  /**
   * `cached_tokens`: the part of `prompt_tokens` read from OpenAI's prompt cache;
   * `audio_tokens`: the part that was audio (gpt-audio, gpt-4o-audio-preview).
   */
  readonly prompt_tokens_details?: {
    readonly cached_tokens?: number;
    readonly audio_tokens?: number;
  };
  /** `audio_tokens`: the part of `completion_tokens` the model spoke. */
  readonly completion_tokens_details?: {
    readonly reasoning_tokens?: number;
    readonly audio_tokens?: number;
  };
}

const DEFAULT_USAGE: FakeOpenAiUsage = {
  prompt_tokens: 12,
  completion_tokens: 6,
  total_tokens: 18,
};

/**
 * A stand-in for OpenAI's API that answers instantly in its documented format, plain and
 * streaming, and can be told to fail in the ways real providers do.
 */
export class FakeOpenAiUpstream {
  readonly calls: RecordedCall[] = [];
  /** Calls the caller hung up on before the answer was complete (a cancelled call). */
  hungUp = 0;
  private readonly server: Server;
  private readonly queue: OpenAiFakeBehaviour[] = [];
  private fallbackBehaviour: OpenAiFakeBehaviour = { kind: 'ok' };
  private answerUsage: FakeOpenAiUsage = DEFAULT_USAGE;
  private answerWords: readonly string[] = WORDS;
  private reasoningWords: readonly string[] = [];
  private reasoningField = 'reasoning_content';
  private audioUsage: Record<string, unknown> | undefined;
  private port = 0;

  constructor(private readonly name = 'fake') {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.keepAliveTimeout = 60_000;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Behaviours for the next requests, in order; after them, `always`'s (default: ok). */
  next(...behaviours: OpenAiFakeBehaviour[]): this {
    this.queue.push(...behaviours);
    return this;
  }

  always(behaviour: OpenAiFakeBehaviour): this {
    this.fallbackBehaviour = behaviour;
    return this;
  }

  /** The usage every chat answer reports from now on (plain, and a stream's last chunk). */
  reportUsage(usage: FakeOpenAiUsage): this {
    this.answerUsage = usage;
    return this;
  }

  /** What every chat answer says from now on: joined in JSON, a chunk per word streamed. */
  answerWith(words: readonly string[]): this {
    this.answerWords = words;
    return this;
  }

  /**
   * The reasoning every chat answer shows from now on, before its text, in `field`
   * (`reasoning_content` as DeepSeek and LiteLLM, or `reasoning` as vLLM and OpenRouter;
   * `reasoning_details`: OpenRouter's `reasoning` with its reasoning.text entry, and an
   * encrypted entry last): joined in JSON, a chunk per piece streamed. None by default.
   */
  reasonWith(words: readonly string[], field = 'reasoning_content'): this {
    this.reasoningWords = words;
    this.reasoningField = field;
    return this;
  }

  /** A message's (`whole`) or a delta's fields carrying `text` as reasoning (reasonWith). */
  private reasoning(text: string, whole = false): Record<string, unknown> {
    if (this.reasoningField !== 'reasoning_details') return { [this.reasoningField]: text };
    const entry = { type: 'reasoning.text', text, format: 'unknown', index: 0 };
    return { reasoning: text, reasoning_details: whole ? [entry, ENCRYPTED_REASONING] : [entry] };
  }

  /**
   * The `usage` every transcription answer in JSON reports from now on; undefined (the
   * default): `{type: 'tokens', ...}` for a gpt-4o transcribe model, else `{type:
   * 'duration', seconds: 3}` as whisper-1 reports.
   */
  reportAudioUsage(usage: Record<string, unknown> | undefined): this {
    this.audioUsage = usage;
    return this;
  }

  reset(): void {
    this.calls.length = 0;
    this.hungUp = 0;
    this.queue.length = 0;
    this.fallbackBehaviour = { kind: 'ok' };
    this.answerUsage = DEFAULT_USAGE;
    this.answerWords = WORDS;
    this.reasoningWords = [];
    this.reasoningField = 'reasoning_content';
    this.audioUsage = undefined;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let body: Record<string, unknown> = {};
    const type = request.headers['content-type'] ?? '';
    try {
      body = type.startsWith('multipart/form-data')
        ? await formFields(Buffer.concat(chunks), type)
        : (JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
    } catch {
      // recorded as empty; the test asserts on what it sent
    }
    const path = (request.url ?? '').split('?')[0] ?? '';
    this.calls.push({ path, headers: request.headers, body });
    response.once('close', () => {
      if (!response.writableFinished) this.hungUp++;
    });
    const behaviour = this.queue.shift() ?? this.fallbackBehaviour;

    switch (behaviour.kind) {
      case 'hang':
        return; // never answers; the gateway's timeout must fire
      case 'status':
        response.writeHead(behaviour.status, {
          'content-type': 'application/json',
          ...behaviour.headers,
        });
        response.end(
          JSON.stringify(
            behaviour.body ?? {
              error: { message: `fake ${behaviour.status}`, type: 'fake_error' },
            },
          ),
        );
        return;
      case 'garbage':
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('<html>not json</html>');
        return;
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, behaviour.ms));
        break;
      case 'held':
        await behaviour.until.catch(() => undefined);
        break;
      case 'ok':
      case 'break-stream':
      case 'stall-stream':
        break;
    }

    const model = typeof body.model === 'string' ? body.model : 'unknown';
    if (path.endsWith('/images/generations') || path.endsWith('/images/edits')) {
      if (body.stream === true || body.stream === 'true') {
        const kind = path.endsWith('/images/edits') ? 'image_edit' : 'image_generation';
        const cutAfter = behaviour.kind === 'break-stream' ? behaviour.afterChunks : undefined;
        return imageEvents(response, model, kind, body, cutAfter);
      }
      return images(response, model, body);
    }
    if (path.endsWith('/images/variations')) return images(response, model, body);
    if (path.endsWith('/moderations')) return json(response, fakeModeration(model, body));
    if (path.endsWith('/rerank')) return json(response, fakeRerank(body, 'vllm'));
    if (path.endsWith('/audio/speech')) {
      return speech(
        response,
        body,
        behaviour.kind === 'break-stream' ? behaviour.afterChunks : undefined,
      );
    }
    if (path.endsWith('/audio/transcriptions') || path.endsWith('/audio/translations')) {
      return this.transcription(response, model, body);
    }
    if (path.endsWith('/embeddings')) {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      return json(response, {
        object: 'list',
        model,
        data: inputs.map((_, index) => ({
          object: 'embedding',
          index,
          embedding: [0.1, 0.2, 0.3],
        })),
        usage: { prompt_tokens: 4, total_tokens: 4 },
      });
    }
    if (body.stream === true) {
      return this.stream(
        response,
        model,
        body,
        behaviour.kind === 'break-stream' || behaviour.kind === 'stall-stream'
          ? {
              afterChunks: behaviour.afterChunks,
              then: behaviour.kind === 'break-stream' ? 'break' : 'stall',
            }
          : undefined,
      );
    }
    if (path.endsWith('/completions') && !path.endsWith('/chat/completions')) {
      // A legacy completion: its choices carry `text`, not a message.
      return json(response, {
        id: 'cmpl-fake',
        object: 'text_completion',
        created: 1_700_000_000,
        model,
        choices: [{ index: 0, text: this.answerWords.join(''), finish_reason: 'stop' }],
        usage: this.answerUsage,
      });
    }
    return json(response, {
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      system_fingerprint: this.name,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: this.answerWords.join(''),
            ...(this.reasoningWords.length > 0 &&
              this.reasoning(this.reasoningWords.join(''), true)),
          },
          finish_reason: 'stop',
        },
      ],
      usage: this.answerUsage,
    });
  }

  /** A transcript of any audio: the fake's sentence, in the format asked for. */
  private transcription(
    response: ServerResponse,
    model: string,
    body: Record<string, unknown>,
  ): void {
    const text = WORDS.join('');
    const format = typeof body.response_format === 'string' ? body.response_format : 'json';
    // gpt-4o transcribe models stream their transcript; whisper-1 ignores `stream`.
    if (body.stream === 'true' && model.includes('transcribe')) {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const word of WORDS) {
        response.write(
          `data: ${JSON.stringify({ type: 'transcript.text.delta', delta: word })}\n\n`,
        );
      }
      const usage = this.audioUsage ?? {
        type: 'tokens',
        input_tokens: 40,
        output_tokens: 6,
        total_tokens: 46,
        input_token_details: { text_tokens: 0, audio_tokens: 40 },
      };
      response.end(`data: ${JSON.stringify({ type: 'transcript.text.done', text, usage })}\n\n`);
      return;
    }
    const plain = (type: string, content: string) => {
      response.writeHead(200, { 'content-type': type });
      response.end(content);
    };
    if (format === 'text') return plain('text/plain; charset=utf-8', `${text}\n`);
    if (format === 'srt')
      return plain('text/plain; charset=utf-8', `1\n00:00:00,000 --> 00:00:03,000\n${text}\n\n`);
    if (format === 'vtt')
      return plain(
        'text/vtt; charset=utf-8',
        `WEBVTT\n\n00:00:00.000 --> 00:00:03.000\n${text}\n\n`,
      );
    const usage =
      this.audioUsage ??
      (model.includes('transcribe')
        ? {
            type: 'tokens',
            input_tokens: 40,
            output_tokens: 6,
            total_tokens: 46,
            input_token_details: { text_tokens: 0, audio_tokens: 40 },
          }
        : { type: 'duration', seconds: 3 });
    if (format === 'verbose_json') {
      const granularities = [body['timestamp_granularities[]'] ?? []].flat();
      return json(response, {
        task: 'transcribe',
        language: 'english',
        duration: 3,
        text,
        segments: [{ id: 0, start: 0, end: 3, text }],
        ...(granularities.includes('word')
          ? {
              words: WORDS.map((word, index) => ({
                word: word.trim(),
                start: index / 2,
                end: (index + 1) / 2,
              })),
            }
          : {}),
        usage,
      });
    }
    return json(response, { text, usage });
  }

  private stream(
    response: ServerResponse,
    model: string,
    body: Record<string, unknown>,
    cut: { afterChunks: number; then: 'break' | 'stall' } | undefined,
  ): void {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const base = {
      id: 'chatcmpl-fake',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model,
    };
    const send = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
    send({
      ...base,
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    for (const piece of this.reasoningWords) {
      const delta = this.reasoning(piece);
      send({ ...base, choices: [{ index: 0, delta, finish_reason: null }] });
    }
    if (this.reasoningWords.length > 0 && this.reasoningField === 'reasoning_details') {
      const delta = { reasoning_details: [ENCRYPTED_REASONING] };
      send({ ...base, choices: [{ index: 0, delta, finish_reason: null }] });
    }
    for (const [index, word] of this.answerWords.entries()) {
      if (cut !== undefined && index >= cut.afterChunks) {
        // Let the client see the first chunks, then drop the connection mid-answer; a
        // stall sends nothing more and leaves it open.
        if (cut.then === 'break') setTimeout(() => response.destroy(), 20);
        return;
      }
      send({ ...base, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] });
    }
    send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    const options = body.stream_options as { include_usage?: boolean } | undefined;
    if (options?.include_usage) {
      send({
        ...base,
        choices: [],
        usage: this.answerUsage,
      });
    }
    response.end('data: [DONE]\n\n');
  }
}

/** A 1x1 PNG, the image the fake draws whatever the prompt. */
export const FAKE_IMAGE_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** Image tokens the fake bills an edit's input image: a square at low fidelity (65 + 129). */
export const FAKE_INPUT_IMAGE_TOKENS = 194;

/**
 * Text tokens the fake reports in the output of gpt-image models after gpt-image-1 (-mini),
 * beside their image tokens (`output_tokens_details`); gpt-image-1's answers carry no
 * breakdown.
 */
export const FAKE_OUTPUT_TEXT_TOKENS = 24;

/**
 * `n` images as OpenAI answers them: URLs (dall-e) or base64 (b64_json, and always for
 * gpt-image models, which also report tokens: 20 text tokens in, plus
 * `FAKE_INPUT_IMAGE_TOKENS` per image an edit sends (not the mask) as image tokens, and
 * 1056 image tokens out per image, medium 1024x1024; later models than gpt-image-1 also
 * `FAKE_OUTPUT_TEXT_TOKENS` of text out, broken down in `output_tokens_details`).
 */
function images(response: ServerResponse, model: string, body: Record<string, unknown>): void {
  const n = Number(body.n ?? 1); // a number in JSON, text in an edit's form
  const tokens = model.startsWith('gpt-image');
  const b64 = tokens || body.response_format === 'b64_json';
  const sent = [body.image, body['image[]']].flat().filter((file) => typeof file === 'object');
  const imageTokens = FAKE_INPUT_IMAGE_TOKENS * sent.length;
  const textOut = /^gpt-image-1(-mini)?$/.test(model) ? 0 : FAKE_OUTPUT_TEXT_TOKENS;
  json(response, {
    created: 1_700_000_000,
    data: Array.from({ length: n }, (_, index) =>
      b64
        ? { b64_json: FAKE_IMAGE_B64 }
        : {
            url: `https://images.example/fake-${index}.png`,
            // A variation has no prompt to revise.
            ...(typeof body.prompt === 'string'
              ? { revised_prompt: `A rendering of: ${body.prompt}` }
              : {}),
          },
    ),
    ...(tokens
      ? {
          usage: {
            input_tokens: 20 + imageTokens,
            output_tokens: 1056 * n + textOut,
            total_tokens: 20 + imageTokens + 1056 * n + textOut,
            input_tokens_details: { text_tokens: 20, image_tokens: imageTokens },
            ...(textOut > 0
              ? { output_tokens_details: { text_tokens: textOut, image_tokens: 1056 * n } }
              : {}),
          },
        }
      : {}),
  });
}

/** The image output tokens the fake bills per partial image, as OpenAI does. */
export const FAKE_PARTIAL_IMAGE_TOKENS = 100;

/**
 * A gpt-image stream as OpenAI sends it: `partial_images` partial events (`event:` line and
 * `data:`, base64 and `partial_image_index`), then the completed event with the image and
 * the JSON answer's usage for one image plus FAKE_PARTIAL_IMAGE_TOKENS per partial; cut
 * after `cutAfter` events. dall-e models refuse to stream, as OpenAI's do.
 */
function imageEvents(
  response: ServerResponse,
  model: string,
  kind: 'image_generation' | 'image_edit',
  body: Record<string, unknown>,
  cutAfter?: number,
): void {
  if (!model.startsWith('gpt-image')) {
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        error: {
          message: `Streaming is not supported for ${model}`,
          type: 'invalid_request_error',
          param: 'stream',
          code: null,
        },
      }),
    );
    return;
  }
  const partials = Number(body.partial_images ?? 0);
  const sent = [body.image, body['image[]']].flat().filter((file) => typeof file === 'object');
  const imageTokens = FAKE_INPUT_IMAGE_TOKENS * sent.length;
  const output = 1056 + partials * FAKE_PARTIAL_IMAGE_TOKENS;
  const settings = {
    size: '1024x1024',
    quality: 'medium',
    background: 'opaque',
    output_format: 'png',
  };
  const events = [
    ...Array.from({ length: partials }, (_, index) => ({
      type: `${kind}.partial_image`,
      b64_json: FAKE_IMAGE_B64,
      created_at: 1_700_000_000,
      ...settings,
      partial_image_index: index,
    })),
    {
      type: `${kind}.completed`,
      b64_json: FAKE_IMAGE_B64,
      created_at: 1_700_000_000,
      ...settings,
      usage: {
        input_tokens: 20 + imageTokens,
        input_tokens_details: { text_tokens: 20, image_tokens: imageTokens },
        output_tokens: output,
        total_tokens: 20 + imageTokens + output,
      },
    },
  ];
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  let at = 0;
  const next = () => {
    if (cutAfter !== undefined && at >= cutAfter) {
      response.destroy();
      return;
    }
    if (at === events.length) {
      response.end();
      return;
    }
    const event = events[at++];
    response.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    setTimeout(next, 5);
  };
  next();
}

const SPEECH_TYPES: Readonly<Record<string, string>> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

/** The audio the fake speaks `input` as: three 40,000-byte pieces derived from the text. */
export function fakeSpeechAudio(input: string): Buffer[] {
  const seed = createHash('sha256').update(input).digest();
  return [0, 1, 2].map((piece) => {
    const bytes = Buffer.alloc(40_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = seed[(i + piece) % seed.length] ^ (i & 0xff);
    return bytes;
  });
}

/** The usage of the fake's `speech.audio.done` event (none of the gateway's estimates). */
export const FAKE_SPEECH_USAGE = { input_tokens: 11, output_tokens: 333, total_tokens: 344 };

/**
 * Speaks the body's input in pieces, as OpenAI streams audio; cut after `breakAfter` of
 * them. With `stream_format: "sse"` a gpt-* model streams OpenAI's events instead (each
 * piece as a `speech.audio.delta`, then `speech.audio.done` with FAKE_SPEECH_USAGE), tts-1
 * refuses as OpenAI does, and any other model ignores it (a server without the events).
 */
function speech(
  response: ServerResponse,
  body: Record<string, unknown>,
  breakAfter?: number,
): void {
  const model = typeof body.model === 'string' ? body.model : '';
  const events = body.stream_format === 'sse' && model.startsWith('gpt-');
  if (body.stream_format === 'sse' && model.startsWith('tts-1')) {
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        error: {
          message: `stream_format 'sse' is not supported for ${model}`,
          type: 'invalid_request_error',
          param: 'stream_format',
          code: null,
        },
      }),
    );
    return;
  }
  const format = typeof body.response_format === 'string' ? body.response_format : 'mp3';
  response.writeHead(200, {
    'content-type': events
      ? 'text/event-stream'
      : (SPEECH_TYPES[format] ?? 'application/octet-stream'),
  });
  const event = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
  const pieces = fakeSpeechAudio(typeof body.input === 'string' ? body.input : '');
  let sent = 0;
  const next = () => {
    if (breakAfter !== undefined && sent >= breakAfter) {
      response.destroy();
      return;
    }
    if (sent === pieces.length) {
      response.end(
        events ? event({ type: 'speech.audio.done', usage: FAKE_SPEECH_USAGE }) : undefined,
      );
      return;
    }
    const piece = pieces[sent++];
    response.write(
      events ? event({ type: 'speech.audio.delta', audio: piece.toString('base64') }) : piece,
    );
    setTimeout(next, 5);
  };
  next();
}

/**
 * A multipart body as the fake records it: each text field by name (a repeated one as a
 * list), each file as {filename, type, size, sha256}. Read with the platform's own form
 * parser, apart from the gateway's.
 */
async function formFields(raw: Buffer, type: string): Promise<Record<string, unknown>> {
  const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
  const fields: Record<string, unknown> = {};
  for (const [name, value] of form.entries()) {
    const item =
      typeof value === 'string'
        ? value
        : {
            filename: value.name,
            type: value.type,
            size: value.size,
            sha256: createHash('sha256')
              .update(Buffer.from(await value.arrayBuffer()))
              .digest('hex'),
          };
    const known = fields[name];
    fields[name] = known === undefined ? item : [known, item].flat();
  }
  return fields;
}

function json(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** OpenAI's answer to a prompt past the model's context window: a 400 with its own code. */
const CONTEXT_LENGTH_EXCEEDED: OpenAiFakeBehaviour = {
  kind: 'status',
  status: 400,
  body: {
    error: {
      message: "This model's maximum context length is 8192 tokens.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    },
  },
};

/**
 * Has `primary` refuse the next call as OpenAI refuses a prompt past the context window,
 * makes the call with `send` (an openai SDK call through the gateway), and checks that the
 * SDK's error carries the provider's status, code and param and that `secondary` was never
 * asked: a refused request is not sent elsewhere.
 */
export async function assertRefusalPassedOn(
  send: () => Promise<unknown>,
  primary: FakeOpenAiUpstream,
  secondary: FakeOpenAiUpstream,
): Promise<void> {
  const asked = secondary.calls.length;
  primary.next(CONTEXT_LENGTH_EXCEEDED);
  await assert.rejects(send, (error: unknown) => {
    const { status, code, param, type } = error as Record<string, unknown>;
    assert.deepEqual(
      { status, code, param, type },
      {
        status: 400,
        code: 'context_length_exceeded',
        param: 'messages',
        type: 'invalid_request_error',
      },
    );
    return true;
  });
  assert.equal(secondary.calls.length, asked, 'a refused request is not sent elsewhere');
}
