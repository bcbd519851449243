// Property-based checks of the gateway's edges with a seeded generator (FUZZ_SEED to
// replay; the seed and the case are in every failure message):
//  1. malformed requests on every public model endpoint are answered with a 4xx in that
//     API's own error format (OpenAI, Anthropic, Google), never a 5xx, never reach the
//     upstream, and never echo a provider key;
//  2. an upstream answering garbage (bytes, truncated JSON, wrong shapes, a stream that
//     stops mid-event) gives the client a 5xx in the right format or an explicit stream
//     error event: never a hang, never a stream that looks finished;
//  3. after all that the gateway still answers and its /metrics still scrape.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { metricSum } from '@aigw/testing';
import {
  FakeAnthropicUpstream,
  FakeGeminiUpstream,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2026);
/** Bad-input cases per endpoint, and garbage answers per (endpoint, backend) pair. */
const CASES_PER_ENDPOINT = 36;
const GARBAGE_PER_PAIR = 8;
/** Answers with one field of a wrong type, per (endpoint, backend) pair. */
const RESHAPED_PER_PAIR = 8;
/** Malformed multipart forms per form endpoint. */
const MULTIPART_CASES = 30;
/** Malformed requests sent in waves of BURST_WIDTH at once. */
const BURST = 120;
const BURST_WIDTH = 12;
/** Bad-input cases per rich chat request (see richEndpoints) on each backend. */
const CASES_PER_RICH_ENDPOINT = 16;
/** Bad-input cases per chat endpoint on each translating backend (Anthropic, Gemini). */
const CASES_PER_TRANSLATED_ENDPOINT = 14;
/** Longer than any answer here should take: past it a request counts as a hang. */
const HANG_MS = 8_000;

const SECRETS = {
  openai: 'sk-fuzz-openai-SECRET-7f3a9c',
  anthropic: 'sk-ant-fuzz-SECRET-91bc04',
  gemini: 'AIzaFuzzSECRET55e1d7',
} as const;

// ---------------------------------------------------------------------------------------
// A small seeded generator (mulberry32): the same seed, the same cases.

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function depthOf(value: Json): number {
  if (value === null || typeof value !== 'object') return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child));
  return deepest + 1;
}

function deep(depth: number, rng: Rng): Json {
  let value: Json = 'bottom';
  for (let i = 0; i < depth; i++) value = rng.chance(0.5) ? [value] : { a: value };
  return value;
}

/** The settings each API has beside its required fields, for mutation 20. */
const OPTIONAL_FIELDS: Readonly<Record<string, readonly string[]>> = {
  chat: [
    'n',
    'logprobs',
    'top_logprobs',
    'logit_bias',
    'stream_options',
    'tools',
    'tool_choice',
    'response_format',
    'reasoning_effort',
    'thinking',
    'parallel_tool_calls',
    'prediction',
    'audio',
    'modalities',
    'service_tier',
    'metadata',
    'store',
    'max_completion_tokens',
    'presence_penalty',
    'frequency_penalty',
    'stop',
    'seed',
    'user',
    'web_search_options',
  ],
  completions: ['n', 'best_of', 'echo', 'suffix', 'logprobs', 'stop', 'stream_options'],
  embeddings: ['dimensions', 'encoding_format', 'user'],
  responses: [
    'previous_response_id',
    'conversation',
    'include',
    'reasoning',
    'text',
    'truncation',
    'parallel_tool_calls',
    'tool_choice',
    'tools',
    'background',
    'prompt',
    'store',
    'instructions',
    'metadata',
    'max_tool_calls',
    'top_logprobs',
  ],
  messages: [
    'thinking',
    'tool_choice',
    'tools',
    'stop_sequences',
    'top_k',
    'top_p',
    'metadata',
    'service_tier',
    'system',
    'container',
    'mcp_servers',
    'output_config',
  ],
  count_tokens: ['system', 'tools', 'thinking', 'tool_choice'],
  'gemini generateContent': [
    'cachedContent',
    'toolConfig',
    'tools',
    'safetySettings',
    'systemInstruction',
    'generationConfig.thinkingConfig',
    'generationConfig.candidateCount',
    'generationConfig.responseSchema',
    'generationConfig.responseMimeType',
    'generationConfig.seed',
    'generationConfig.responseModalities',
    'generationConfig.stopSequences',
    'generationConfig.topK',
    'generationConfig.speechConfig',
  ],
  'gemini streamGenerateContent': [
    'toolConfig',
    'tools',
    'systemInstruction',
    'generationConfig.thinkingConfig',
    'generationConfig.candidateCount',
    'generationConfig.responseSchema',
  ],
  images: [
    'n',
    'size',
    'quality',
    'style',
    'response_format',
    'background',
    'output_format',
    'partial_images',
    'user',
  ],
  moderations: ['model'],
};

/** Values a setting could well take, right for some, wrong for others. */
const PLAUSIBLE_VALUES: readonly Json[] = [
  2,
  0,
  1024,
  'high',
  'auto',
  'none',
  'required',
  { type: 'enabled', budget_tokens: 1024 },
  { type: 'adaptive' },
  { effort: 'high', summary: 'auto' },
  { include_usage: true },
  { type: 'json_object' },
  { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
  { format: { type: 'json_schema', name: 'x', schema: { type: 'object' } } },
  [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
  [{ type: 'function', name: 'f', parameters: { type: 'object' } }],
  [{ name: 'f', input_schema: { type: 'object' } }],
  [{ functionDeclarations: [{ name: 'f' }] }],
  { type: 'tool', name: 'f' },
  { thinkingBudget: -1, includeThoughts: true },
  ['TEXT', 'IMAGE'],
  'resp_does_not_exist',
  ['reasoning.encrypted_content'],
];

/** Values of the wrong type, or of the right type and absurd. */
const WRONG_VALUES: readonly ((rng: Rng) => Json)[] = [
  () => null,
  () => 0,
  () => -1,
  () => 1e308,
  () => -0.5,
  () => 2 ** 53 + 1,
  () => true,
  () => false,
  () => '',
  () => 'NaN',
  () => 'Infinity',
  () => '-1e999',
  () => 'null',
  () => '0x1f',
  () => [],
  () => [null],
  () => [1, 'a', {}],
  () => ({}),
  () => ({ unexpected: { nested: [1, 2] } }),
  (rng) => deep(1 + rng.int(120), rng),
  (rng) => 'x'.repeat(50_000 + rng.int(400_000)),
  () => 'lone \ud800 high and \udfff low surrogates',
  () => '\u0000\u202e\ufeff😀 \u{10ffff}',
  () => '%s%n${jndi:ldap://x}{{7*7}}<script>',
];

type Path = (string | number)[];

function pathsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const path = [...prefix, Array.isArray(value) ? Number(key) : key];
      out.push(path);
      pathsOf(child, path, out);
    }
  }
  return out;
}

function objectsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (value !== null && typeof value === 'object') {
    if (!Array.isArray(value)) out.push(prefix);
    for (const [key, child] of Object.entries(value)) {
      objectsOf(child, [...prefix, Array.isArray(value) ? Number(key) : key], out);
    }
  }
  return out;
}

function at(root: Json, path: Path): Json {
  let node = root;
  for (const key of path) node = (node as Record<string | number, Json>)[key];
  return node;
}

function withChange(root: Json, path: Path, change: (parent: Json, key: string | number) => void) {
  const copy = structuredClone(root);
  const parent = at(copy, path.slice(0, -1));
  change(parent, path.at(-1) as string | number);
  return copy;
}

// ---------------------------------------------------------------------------------------
// The endpoints and their error formats.

type Format = 'openai' | 'anthropic' | 'gemini';

interface Endpoint {
  readonly name: string;
  readonly path: string;
  readonly format: Format;
  readonly body: Json;
  /**
   * Top-level fields the request is invalid without, each with the values it may take
   * (another value, or none, must be refused).
   */
  readonly required: Readonly<Record<string, (value: Json) => boolean>>;
  /**
   * The body goes to the backend as it came (OpenAI's wire), so nesting past the gateway's
   * 64 levels anywhere in it is refused; the other APIs' bodies are translated, their
   * unknown fields left behind.
   */
  readonly forwardsBody?: boolean;
}

const isText = (v: Json) => typeof v === 'string' && v.length > 0;
const isList = (v: Json) => Array.isArray(v) && v.length > 0;
const isTextOrList = (v: Json) => typeof v === 'string' || isList(v);
const isObject = (v: Json) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v: Json) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

const USER_TURN = [{ role: 'user', content: 'hi' }];
const GEMINI_BODY = {
  contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
  generationConfig: { maxOutputTokens: 16, temperature: 0.2 },
};

const PNG_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const PNG_DATA = PNG_URL.slice(PNG_URL.indexOf(',') + 1);
const CITY_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
};

/**
 * Each chat API's request with much of what it can carry (system text, an image, a tool, an
 * earlier tool call and its result, sampling settings): more fields for
 * the mutations to break, and for the translations to a backend's API to read.
 */
function richEndpoints(chat: string): Endpoint[] {
  return [
    {
      name: 'chat (rich)',
      path: '/v1/chat/completions',
      format: 'openai',
      body: {
        model: chat,
        max_tokens: 32,
        temperature: 0.3,
        top_p: 0.9,
        stop: ['END'],
        seed: 7,
        user: 'u1',
        messages: [
          { role: 'system', content: 'Be brief.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather where this was taken?' },
              { type: 'image_url', image_url: { url: PNG_URL, detail: 'low' } },
            ],
          },
          {
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
          { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        ],
        tools: [
          {
            type: 'function',
            function: { name: 'get_weather', description: 'Weather', parameters: CITY_SCHEMA },
          },
        ],
        tool_choice: 'auto',
      },
      required: { model: isText, messages: isList },
      forwardsBody: true,
    },
    {
      name: 'responses (rich)',
      path: '/v1/responses',
      format: 'openai',
      body: {
        model: chat,
        max_output_tokens: 64,
        instructions: 'Be brief.',
        temperature: 0.5,
        store: false,
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'Weather where this was taken?' },
              { type: 'input_image', image_url: PNG_URL },
            ],
          },
          {
            type: 'function_call',
            call_id: 'call_1',
            name: 'get_weather',
            arguments: '{"city":"Paris"}',
          },
          { type: 'function_call_output', call_id: 'call_1', output: '18C' },
        ],
        tools: [
          {
            type: 'function',
            name: 'get_weather',
            description: 'Weather',
            parameters: CITY_SCHEMA,
          },
        ],
        tool_choice: 'auto',
      },
      required: { model: isText },
    },
    {
      name: 'messages (rich)',
      path: '/v1/messages',
      format: 'anthropic',
      body: {
        model: chat,
        max_tokens: 64,
        temperature: 0.5,
        stop_sequences: ['END'],
        metadata: { user_id: 'u1' },
        system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather where this was taken?' },
              {
                type: 'image',
                source: { type: 'base64', media_type: 'image/png', data: PNG_DATA },
              },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            ],
          },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' }],
          },
        ],
        tools: [{ name: 'get_weather', description: 'Weather', input_schema: CITY_SCHEMA }],
        tool_choice: { type: 'auto' },
      },
      required: { model: isText, messages: isList, max_tokens: isCount },
    },
    {
      name: 'gemini generateContent (rich)',
      path: `/v1beta/models/${chat}:generateContent`,
      format: 'gemini',
      body: {
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        contents: [
          {
            role: 'user',
            parts: [
              { text: 'Weather where this was taken?' },
              { inlineData: { mimeType: 'image/png', data: PNG_DATA } },
            ],
          },
          {
            role: 'model',
            parts: [
              {
                functionCall: { name: 'get_weather', args: { city: 'Paris' } },
                thoughtSignature: 'c2lnbmF0dXJl',
              },
            ],
          },
          {
            role: 'user',
            parts: [{ functionResponse: { name: 'get_weather', response: { temp: '18C' } } }],
          },
        ],
        tools: [
          {
            functionDeclarations: [
              { name: 'get_weather', description: 'Weather', parameters: CITY_SCHEMA },
            ],
          },
        ],
        toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
        safetySettings: [
          { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', threshold: 'BLOCK_ONLY_HIGH' },
        ],
        generationConfig: {
          maxOutputTokens: 64,
          temperature: 0.2,
          topP: 0.9,
          topK: 20,
          stopSequences: ['END'],
        },
      },
      required: { contents: (v) => isList(v) || isObject(v) },
    },
  ];
}

function endpoints(chat: string, embed: string): Endpoint[] {
  return [
    {
      name: 'chat',
      path: '/v1/chat/completions',
      format: 'openai',
      body: { model: chat, messages: USER_TURN, max_tokens: 16, temperature: 0.5 },
      required: { model: isText, messages: isList },
      forwardsBody: true,
    },
    {
      name: 'completions',
      path: '/v1/completions',
      format: 'openai',
      body: { model: chat, prompt: 'hi', max_tokens: 16 },
      required: { model: isText, prompt: isTextOrList },
      forwardsBody: true,
    },
    {
      name: 'embeddings',
      path: '/v1/embeddings',
      format: 'openai',
      body: { model: embed, input: ['a', 'b'] },
      required: { model: isText, input: isTextOrList },
      forwardsBody: true,
    },
    {
      name: 'responses',
      path: '/v1/responses',
      format: 'openai',
      body: { model: chat, input: [{ role: 'user', content: 'hi' }], max_output_tokens: 16 },
      required: { model: isText },
    },
    {
      name: 'messages',
      path: '/v1/messages',
      format: 'anthropic',
      body: { model: chat, max_tokens: 16, system: 'be brief', messages: USER_TURN },
      required: { model: isText, messages: isList, max_tokens: isCount },
    },
    {
      name: 'count_tokens',
      path: '/v1/messages/count_tokens',
      format: 'anthropic',
      body: { model: chat, messages: USER_TURN },
      required: { model: isText, messages: isList },
    },
    {
      name: 'gemini generateContent',
      path: `/v1beta/models/${chat}:generateContent`,
      format: 'gemini',
      body: GEMINI_BODY,
      required: { contents: (v) => isList(v) || isObject(v) },
    },
    {
      name: 'gemini streamGenerateContent',
      path: `/v1beta/models/${chat}:streamGenerateContent?alt=sse`,
      format: 'gemini',
      body: GEMINI_BODY,
      required: { contents: (v) => isList(v) || isObject(v) },
    },
    {
      name: 'gemini embedContent',
      path: `/v1beta/models/${embed}:embedContent`,
      format: 'gemini',
      body: { content: { parts: [{ text: 'embed me' }] }, taskType: 'RETRIEVAL_QUERY', title: 't' },
      required: { content: isObject },
    },
    {
      name: 'gemini batchEmbedContents',
      path: `/v1beta/models/${embed}:batchEmbedContents`,
      format: 'gemini',
      body: {
        requests: [
          { model: `models/${embed}`, content: { parts: [{ text: 'a' }] } },
          { model: `models/${embed}`, content: { parts: [{ text: 'b' }] } },
        ],
      },
      required: { requests: isList },
    },
    {
      name: 'images',
      path: '/v1/images/generations',
      format: 'openai',
      body: { model: 'image-fuzz', prompt: 'a cat', n: 1, size: '1024x1024' },
      required: { model: isText, prompt: isText },
    },
    {
      name: 'moderations',
      path: '/v1/moderations',
      format: 'openai',
      body: { model: 'mod-fuzz', input: 'hi' },
      required: { input: isTextOrList },
    },
  ];
}

/** One request as sent, and whether any correct gateway must refuse it. */
interface Attempt {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: Buffer | undefined;
  readonly mutation: string;
  readonly mustRefuse: boolean;
  /** Headers beside the content type. */
  readonly headers?: Readonly<Record<string, string>>;
}

const BAD_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=zz',
  'application/xml',
  'application/json; charset=utf-16',
  'image/png',
];

/** Invalid UTF-8: a stray continuation, a truncated sequence, an encoded surrogate. */
const BAD_UTF8 = [[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80]];

function unchanged(endpoint: Endpoint): Attempt {
  return {
    method: 'POST',
    path: endpoint.path,
    contentType: 'application/json',
    body: Buffer.from(JSON.stringify(endpoint.body)),
    mutation: 'none (the valid body)',
    mustRefuse: false,
  };
}

function mutate(endpoint: Endpoint, rng: Rng): Attempt {
  const base = { method: 'POST', path: endpoint.path, contentType: 'application/json' };
  // Whether a JSON body must be refused follows from the body itself: a required field
  // missing or of a value it cannot take, or a forwarded body nesting past 64 levels.
  const json = (body: Json, mutation: string): Attempt => ({
    ...base,
    body: Buffer.from(JSON.stringify(body)),
    mutation,
    mustRefuse:
      (endpoint.forwardsBody === true && depthOf(body) > 64) ||
      Object.entries(endpoint.required).some(([field, accepts]) => {
        const value = (body as Record<string, Json | undefined>)[field];
        return value === undefined || !accepts(value);
      }),
  });
  const raw = (text: string | Buffer, mutation: string, mustRefuse: boolean): Attempt => ({
    ...base,
    body: typeof text === 'string' ? Buffer.from(text) : text,
    mutation,
    mustRefuse,
  });
  const valid = endpoint.body;
  const text = JSON.stringify(valid);
  let kind = rng.int(21);
  if (kind === 19 && endpoint.format !== 'gemini') kind = 20;
  switch (kind) {
    case 0:
    case 1: {
      const path = rng.pick(pathsOf(valid));
      const body = withChange(valid, path, (parent, key) => {
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete (parent as Record<string, Json>)[key];
      });
      return json(body, `delete ${JSON.stringify(path)}`);
    }
    case 2:
    case 3:
    case 4:
    case 5: {
      const path = rng.pick(pathsOf(valid));
      const value = rng.pick(WRONG_VALUES)(rng);
      const body = withChange(valid, path, (parent, key) => {
        (parent as Record<string | number, Json>)[key] = value;
      });
      const shown = JSON.stringify(value).slice(0, 60);
      return json(body, `set ${JSON.stringify(path)} = ${shown}`);
    }
    case 6: {
      const path = rng.pick(objectsOf(valid));
      const body = withChange(valid, [...path, '__unknown__'], (parent) => {
        (parent as Record<string, Json>)[rng.pick(['__proto__x', 'zz_unknown', 'constructor'])] =
          rng.pick(WRONG_VALUES)(rng);
      });
      return json(body, `unknown field in ${JSON.stringify(path)}`);
    }
    case 7: {
      const stream = rng.pick<Json>([true, false, 'true', 1, null, {}]);
      const body = { ...(valid as Record<string, Json>), stream };
      return json(body, `stream = ${JSON.stringify(stream)}`);
    }
    case 8: {
      const cut = rng.int(text.length);
      return raw(text.slice(0, cut), `truncated at ${cut}`, true);
    }
    case 9:
      return raw('', 'empty body', true);
    case 10: {
      // Bytes that are not UTF-8 inside a string value.
      const quote = text.indexOf('"', 1 + rng.int(text.length - 2));
      const at = quote === -1 ? 1 : quote + 1;
      const bad = Buffer.from(rng.pick(BAD_UTF8));
      const body = Buffer.concat([
        Buffer.from(text.slice(0, at)),
        bad,
        Buffer.from(text.slice(at)),
      ]);
      return raw(body, `invalid UTF-8 ${bad.toString('hex')} at ${at}`, false);
    }
    case 11: {
      const other = rng.pick(['[]', 'null', '"hi"', '42', 'true', `[${text}]`]);
      return raw(other, `not an object: ${other.slice(0, 30)}`, true);
    }
    case 12: {
      const contentType = rng.pick([...BAD_CONTENT_TYPES, undefined]);
      return {
        ...base,
        contentType,
        body: Buffer.from(text),
        mutation: `content-type ${contentType}`,
        // A JSON body without a content type is still JSON to some clients, and JSON is
        // UTF-8 whatever charset its type names; the rest cannot be read as JSON.
        mustRefuse: contentType !== undefined && !contentType.startsWith('application/json'),
      };
    }
    case 13: {
      const variants: [string, string, boolean][] = [
        ['\ufeff' + text, 'byte order mark', false],
        [text + '}', 'trailing brace', true],
        [text + ' xyz', 'trailing garbage', true],
        [text.replace('"hi"', '"\\ud800"'), 'lone surrogate escape', false],
        [text.replace(/(\d+)/, '1e400'), 'number past double range', false],
        [`{"model":1,${text.slice(1)}`, 'duplicate key', false],
        ['['.repeat(5_000) + ']'.repeat(5_000), 'deep array', true],
        [text.replace(/:/, ':  \u0000'), 'raw NUL', true],
      ];
      const [body, mutation, mustRefuse] = rng.pick(variants);
      return raw(body, mutation, mustRefuse);
    }
    case 14: {
      const method = rng.pick(['GET', 'PUT', 'DELETE', 'PATCH']);
      return {
        ...base,
        method,
        body: method === 'GET' ? undefined : Buffer.from(text),
        mutation: `method ${method}`,
        mustRefuse: true,
      };
    }
    case 16: {
      // A coding the body is, is not, or that is not served.
      const plainText = Buffer.from(text);
      const codings: [string, Buffer, boolean][] = [
        ['gzip', gzipSync(plainText), false],
        ['deflate', deflateSync(plainText), false],
        ['identity', plainText, false],
        ['gzip', plainText, true],
        ['br', rng.bytes(40), true],
        ['gzip', gzipSync(plainText).subarray(0, 20), true],
        ['zstd', plainText, true],
        ['x-unknown', plainText, true],
        ['gzip, gzip', gzipSync(gzipSync(plainText)), false],
      ];
      const [coding, body, mustRefuse] = rng.pick(codings);
      return {
        ...base,
        headers: { 'content-encoding': coding },
        body,
        mutation: `content-encoding ${coding} (${body.length} bytes)`,
        mustRefuse,
      };
    }
    case 17: {
      // Credentials, versions and ids of any length and bytes (Latin-1, as HTTP carries).
      const name = rng.pick([
        'authorization',
        'x-api-key',
        'x-goog-api-key',
        'anthropic-version',
        'anthropic-beta',
        'x-user-id',
        'accept',
        'x-request-id',
      ]);
      const value = rng.pick([
        '',
        'Bearer',
        'Bearer \xff\xfe',
        '\u00e9t\u00e9',
        'x'.repeat(8_000),
        '2023-06-01, 1999-01-01',
        '*/*;q=abc',
        '../../etc/passwd',
      ]);
      return {
        ...base,
        headers: { [name]: value },
        body: Buffer.from(text),
        mutation: `header ${name}: ${value.slice(0, 40)}`,
        mustRefuse: false,
      };
    }
    case 18:
      return json(valid, 'none (a control)');
    case 19: {
      // Gemini's path names the model and method: a bad one is a 4xx in Google's shape.
      const [target, query = ''] = endpoint.path.split('?');
      const model = target.slice(target.indexOf('/models/') + 8, target.lastIndexOf(':'));
      const method = target.slice(target.lastIndexOf(':'));
      const paths: [string, boolean][] = [
        // A bad %-escape (/models/%ZZ:…) is not here: Fastify answers it in its own shape,
        // before any route (libs/runtime's frameworkErrors; reported, not yet fixed).
        [target.replace(`/${model}:`, '/:'), true],
        [target.replace(`/${model}:`, `/${'m'.repeat(3_000)}:`), true],
        [target.replace(`/${model}:`, '/%F0%9F%98%80:'), true],
        [target.replace(`/${model}:`, '/..%2F..%2Fadmin:'), true],
        [target.replace(method, ':generateContentX'), true],
        [target.replace(method, ':'), true],
        [`${target}?alt=xml`, false],
        [`${target}?alt=sse&alt=json`, false],
        [`${target}?${query}&key=${'k'.repeat(500)}`, false],
      ];
      const [path, mustRefuse] = rng.pick(paths);
      return {
        ...base,
        path,
        body: Buffer.from(text),
        mutation: `path ${path.slice(0, 80)}`,
        mustRefuse,
      };
    }
    case 20: {
      // A setting the API has, of a plausible or a wrong value.
      const fields = OPTIONAL_FIELDS[endpoint.name.replace(' (rich)', '')] ?? [];
      if (fields.length === 0) return json(valid, 'none (no settings listed)');
      const field = rng.pick(fields);
      const value = rng.chance(0.5) ? rng.pick(PLAUSIBLE_VALUES) : rng.pick(WRONG_VALUES)(rng);
      const path = field.split('.');
      const body = structuredClone(valid) as Record<string, Json>;
      let node = body;
      for (const key of path.slice(0, -1)) {
        const next = node[key];
        node =
          next !== null && typeof next === 'object' && !Array.isArray(next)
            ? next
            : (node[key] = {});
      }
      node[path.at(-1) as string] = value;
      return json(body, `set ${field} = ${JSON.stringify(value).slice(0, 60)}`);
    }
    default: {
      // Several changes at once.
      let body = valid;
      const steps: string[] = [];
      for (let i = 0; i < 2 + rng.int(3); i++) {
        const paths = pathsOf(body);
        if (paths.length === 0) break;
        const path = rng.pick(paths);
        const value = rng.pick(WRONG_VALUES)(rng);
        body = withChange(body, path, (parent, key) => {
          (parent as Record<string | number, Json>)[key] = value;
        });
        steps.push(`${JSON.stringify(path)}=${JSON.stringify(value).slice(0, 30)}`);
      }
      return json(body, `set ${steps.join(', ')}`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Multipart forms (audio, image edits).

interface FormPart {
  readonly name: string;
  readonly value: string | Buffer;
  readonly filename?: string;
  readonly type?: string;
}

/** A short mono WAV (16-bit, 8 kHz, silence) and a 1x1 PNG. */
const WAV = (() => {
  const samples = 800;
  const file = Buffer.alloc(44 + samples * 2);
  file.write('RIFF', 0);
  file.writeUInt32LE(36 + samples * 2, 4);
  file.write('WAVEfmt ', 8);
  file.writeUInt32LE(16, 16);
  file.writeUInt16LE(1, 20);
  file.writeUInt16LE(1, 22);
  file.writeUInt32LE(8000, 24);
  file.writeUInt32LE(16000, 28);
  file.writeUInt16LE(2, 32);
  file.writeUInt16LE(16, 34);
  file.write('data', 36);
  file.writeUInt32LE(samples * 2, 40);
  return file;
})();
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

function formBody(parts: readonly FormPart[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const file = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    const type = part.type === undefined ? '' : `\r\nContent-Type: ${part.type}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${file}${type}\r\n\r\n`,
      ),
      typeof part.value === 'string' ? Buffer.from(part.value) : part.value,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

function multipartAttempt(
  path: string,
  parts: readonly FormPart[],
  mutation: string,
  mustRefuse: boolean,
  boundary = 'fuzzBoundary42',
): Attempt {
  return {
    method: 'POST',
    path,
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: formBody(parts, boundary),
    mutation,
    mustRefuse,
  };
}

function mutateForm(path: string, parts: readonly FormPart[], rng: Rng): Attempt {
  const required = ['model', 'file', 'image', 'prompt'];
  const at = rng.int(parts.length);
  const part = parts[at];
  const others = parts.filter((_, i) => i !== at);
  switch (rng.int(12)) {
    case 0:
      return multipartAttempt(path, others, `without ${part.name}`, required.includes(part.name));
    case 1: {
      const value = rng.pick(['', 'x'.repeat(300_000), '\ud800', '{"a":1}', '-1', 'NaN']);
      const changed = [...others, { ...part, value, filename: undefined, type: undefined }];
      return multipartAttempt(
        path,
        changed,
        `${part.name} = ${value.slice(0, 20)}`,
        part.name === 'file' || part.name === 'image' || (part.name === 'model' && value === ''),
      );
    }
    case 2: {
      const filename = rng.pick(['', '../../etc/passwd', 'a"b.wav', 'é😀.wav', 'x'.repeat(5_000)]);
      return multipartAttempt(
        path,
        [...others, { ...part, filename }],
        `${part.name} filename ${filename.slice(0, 20)}`,
        false,
      );
    }
    case 3: {
      const whole = multipartAttempt(path, parts, '', false).body as Buffer;
      const cut = rng.int(whole.length - 8);
      return {
        ...multipartAttempt(path, parts, '', false),
        body: whole.subarray(0, cut),
        mutation: `truncated at ${cut}`,
        mustRefuse: true,
      };
    }
    case 4:
      return {
        ...multipartAttempt(path, parts, '', false),
        contentType: 'multipart/form-data',
        mutation: 'no boundary',
        mustRefuse: true,
      };
    case 5:
      return {
        ...multipartAttempt(path, parts, '', false),
        contentType: 'multipart/form-data; boundary=other',
        mutation: 'wrong boundary',
        mustRefuse: true,
      };
    case 6:
      return {
        ...multipartAttempt(path, parts, '', false),
        body: rng.bytes(200),
        mutation: 'random bytes',
        mustRefuse: true,
      };
    case 7:
      return multipartAttempt(path, [...parts, part], `${part.name} twice`, false);
    case 8:
      return multipartAttempt(
        path,
        [
          ...parts,
          {
            name: rng.pick(['', 'é', 'stream', 'n', 'x'.repeat(1_000)]),
            value: rng.pick(['true', '5', '']),
          },
        ],
        'an extra field',
        false,
      );
    case 9:
      return {
        ...multipartAttempt(path, parts, '', false),
        contentType: 'application/json',
        mutation: 'a form sent as JSON',
        mustRefuse: true,
      };
    case 10:
      return {
        ...multipartAttempt(path, [], '', false),
        mutation: 'an empty form',
        mustRefuse: true,
      };
    default: {
      const value =
        part.name === 'file' || part.name === 'image' ? rng.bytes(rng.int(2_000)) : part.value;
      return multipartAttempt(
        path,
        [...others, { ...part, value }],
        `${part.name} of random bytes`,
        false,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------
// Sending and checking.

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly raw: Buffer;
  readonly text: string;
}

async function send(gateway: AppProcess, attempt: Attempt, describeIt: string): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (attempt.contentType !== undefined) headers['content-type'] = attempt.contentType;
  Object.assign(headers, attempt.headers);
  let response: Response;
  try {
    response = await fetch(`${gateway.baseUrl}${attempt.path}`, {
      method: attempt.method,
      headers,
      body: attempt.body,
      signal: AbortSignal.timeout(HANG_MS),
    });
    const raw = Buffer.from(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, raw, text: raw.toString('utf8') };
  } catch (error) {
    assert.fail(`${describeIt}: no complete answer (${String(error)})`);
  }
}

function parsed(text: string, describeIt: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    assert.ok(value !== null && typeof value === 'object', `${describeIt}: not an object`);
    return value as Record<string, unknown>;
  } catch (error) {
    assert.fail(`${describeIt}: error body is not JSON (${String(error)}): ${text.slice(0, 300)}`);
  }
}

/** Asserts `body` is an error in the API's own shape for `status`. */
function assertErrorShape(format: Format, status: number, text: string, describeIt: string) {
  const body = parsed(text, describeIt);
  const error = body.error as Record<string, unknown> | undefined;
  const shown = `${describeIt}: ${text.slice(0, 300)}`;
  assert.ok(error && typeof error === 'object', `no error object: ${shown}`);
  assert.equal(typeof error.message, 'string', `error.message: ${shown}`);
  assert.ok((error.message as string).length > 0, `empty error.message: ${shown}`);
  switch (format) {
    case 'openai':
      assert.equal(typeof error.type, 'string', `error.type: ${shown}`);
      assert.ok((error.type as string).length > 0, `empty error.type: ${shown}`);
      break;
    case 'anthropic':
      assert.equal(body.type, 'error', `type: ${shown}`);
      assert.equal(typeof error.type, 'string', `error.type: ${shown}`);
      break;
    case 'gemini':
      assert.equal(error.code, status, `error.code: ${shown}`);
      assert.equal(typeof error.status, 'string', `error.status: ${shown}`);
      assert.match(error.status as string, /^[A-Z_]+$/, `error.status: ${shown}`);
      break;
  }
}

function assertNoSecret(answer: Answer, describeIt: string): void {
  const headers = JSON.stringify([...answer.headers.entries()]);
  for (const secret of Object.values(SECRETS)) {
    assert.ok(!answer.text.includes(secret), `${describeIt}: the body echoes a provider key`);
    assert.ok(!headers.includes(secret), `${describeIt}: a header echoes a provider key`);
  }
}

function describeAttempt(endpoint: Endpoint, attempt: Attempt, index: number): string {
  const body = attempt.body?.toString('utf8') ?? '';
  const shown = body.length > 240 ? `${body.slice(0, 240)}… (${body.length} bytes)` : body;
  return (
    `[FUZZ_SEED=${SEED} case ${index}] ${attempt.method} ${attempt.path} (${endpoint.name}) ` +
    `content-type=${attempt.contentType} mutation=${attempt.mutation} body=${shown}`
  );
}

// ---------------------------------------------------------------------------------------
// A backend that answers whatever the current case scripts, for the garbage property.

type Provider = 'openai' | 'anthropic' | 'gemini';

interface Scripted {
  readonly status: number;
  readonly contentType: string;
  readonly parts: readonly Buffer[];
  /** Drop the connection after the parts instead of ending the response. */
  readonly drop: boolean;
  readonly label: string;
  /** Headers beside the content type. */
  readonly headers?: Readonly<Record<string, string>>;
}

interface ScriptedCall {
  readonly path: string;
  readonly stream: boolean;
  readonly body: Record<string, unknown>;
}

class ScriptedUpstream {
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
    response.writeHead(answer.status, { ...answer.headers, 'content-type': answer.contentType });
    for (const part of answer.parts) response.write(part);
    if (answer.drop) setTimeout(() => response.destroy(), 10);
    else response.end();
  }
}

/** A well-formed answer of each provider, plain, to truncate or reshape. */
function plainAnswer(provider: Provider, model: string): Json {
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

/** A provider's stream as SSE frames, the last frame(s) the ones that finish it. */
function streamFrames(provider: Provider, model: string): { frames: string[]; finishing: number } {
  const data = (value: Json, event?: string) =>
    `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(value)}\n\n`;
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
      const event = (value: { type: string } & Record<string, Json>) => data(value, value.type);
      return {
        frames: [
          event({
            type: 'message_start',
            message: {
              id: 'msg_1',
              type: 'message',
              role: 'assistant',
              model,
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: { input_tokens: 3, output_tokens: 1 },
            },
          }),
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

const WRONG_SHAPES: readonly Json[] = [
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
function garbage(provider: Provider, call: ScriptedCall, rng: Rng, secret: string): Scripted {
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
function toolAnswer(provider: Provider, model: string): Json {
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
function toolStreamFrames(provider: Provider, model: string): string[] {
  const data = (value: Json, event?: string) =>
    `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(value)}\n\n`;
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
      const event = (value: { type: string } & Record<string, Json>) => data(value, value.type);
      const partial = (json: string) =>
        event({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: json },
        });
      return [
        event({
          type: 'message_start',
          message: {
            id: 'msg_2',
            type: 'message',
            role: 'assistant',
            model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: 3, output_tokens: 1 },
          },
        }),
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

const ANSWER_VALUES: readonly Json[] = [null, 5, -1, 'x', '', true, [], [null], {}, { a: 1 }];

/** `value` with one or two of its fields (at any depth) replaced by a value of another type. */
function reshapedJson(value: Json, rng: Rng): { json: Json; what: string } {
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
function reshaped(provider: Provider, call: ScriptedCall, rng: Rng): Scripted {
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

/** Asserts a 200 JSON answer is one the endpoint's clients can read. */
function assertReadable(endpoint: Endpoint, text: string, shown: string): void {
  const body = parsed(text, shown);
  switch (endpoint.name) {
    case 'chat': {
      const choices = body.choices as Record<string, unknown>[];
      assert.ok(Array.isArray(choices), `choices: ${shown}`);
      for (const choice of choices) {
        const message = choice.message as Record<string, unknown> | null;
        assert.ok(message !== null && typeof message === 'object', `message: ${shown}`);
        const content = message.content;
        assert.ok(
          content === null ||
            content === undefined ||
            typeof content === 'string' ||
            Array.isArray(content),
          `content: ${shown}`,
        );
      }
      break;
    }
    case 'completions':
      assert.ok(Array.isArray(body.choices), `choices: ${shown}`);
      for (const choice of body.choices as Record<string, unknown>[]) {
        assert.equal(typeof choice.text, 'string', `text: ${shown}`);
      }
      break;
    case 'embeddings':
      assert.ok(Array.isArray(body.data), `data: ${shown}`);
      break;
    case 'responses':
      assert.equal(body.object, 'response', shown);
      assert.ok(Array.isArray(body.output), `output: ${shown}`);
      break;
    case 'messages':
      assert.equal(body.type, 'message', shown);
      assert.ok(Array.isArray(body.content), `content: ${shown}`);
      for (const block of body.content as Record<string, unknown>[]) {
        assert.equal(typeof block.type, 'string', `block type: ${shown}`);
        if (block.type === 'text') assert.equal(typeof block.text, 'string', `text: ${shown}`);
      }
      break;
    default:
      assert.ok(Array.isArray(body.candidates), `candidates: ${shown}`);
      for (const candidate of body.candidates as Record<string, unknown>[]) {
        const content = candidate.content as Record<string, unknown> | undefined;
        if (content !== undefined) assert.ok(Array.isArray(content.parts), `parts: ${shown}`);
      }
  }
}

/** Whether a 200 event stream ended the way a finished answer does, with no error in it. */
function looksFinished(format: Format, path: string, text: string): boolean {
  if (path.includes('/responses')) {
    return /^event: response\.completed$/m.test(text) && !hasErrorEvent(format, path, text);
  }
  switch (format) {
    case 'openai':
      return text.trimEnd().endsWith('data: [DONE]') && !/^data: \{"error"/m.test(text);
    case 'anthropic':
      return /^event: message_stop$/m.test(text) && !/^event: error$/m.test(text);
    case 'gemini':
      return /"finishReason"/.test(text) && !/"error"\s*:/.test(text);
  }
}

/** Whether a 200 event stream carries the API's explicit error event. */
function hasErrorEvent(format: Format, path: string, text: string): boolean {
  if (path.includes('/responses')) return /^event: (response\.failed|error)$/m.test(text);
  switch (format) {
    case 'openai':
      return /^data: \{"error":\{/m.test(text);
    case 'anthropic':
      return /^event: error$/m.test(text);
    case 'gemini':
      return /"error"\s*:\s*\{"code":[45]\d\d/.test(text);
  }
}

// ---------------------------------------------------------------------------------------

describe('bad input and bad upstream answers, fuzzed (all-in-one gateway)', () => {
  const upstream = new FakeOpenAiUpstream('fuzz');
  // Backends the gateway translates chat requests for, where a field of a wrong type could
  // break the translation rather than be relayed.
  const claude = new FakeAnthropicUpstream();
  const gemini = new FakeGeminiUpstream();
  const upstreamCalls = () => upstream.calls.length + claude.calls.length + gemini.calls.length;
  const scripted = new ScriptedUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-fuzz-'));
  let gateway: AppProcess;
  let failed = false;

  /** Fails with every failing case (the first ones in full), so one run shows them all. */
  function report(failures: string[]): void {
    if (failures.length === 0) return;
    failed = true;
    assert.fail(`${failures.length} failing case(s):\n${failures.slice(0, 40).join('\n\n')}`);
  }

  before(async () => {
    await Promise.all([upstream.start(), claude.start(), gemini.start(), scripted.start()]);
    const openai = `provider: openai, baseUrl: "${upstream.baseUrl}", auth: {apiKeyRef: {name: openai-key}}`;
    const junk = (provider: string, base: string, key: string) =>
      `provider: ${provider}, baseUrl: "${scripted.origin}${base}", auth: {apiKeyRef: {name: ${key}}}`;
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: fuzz}
spec:
  backends:
  - {name: chat, ${openai}, model: gpt-4o-mini, modelNameOverride: gpt-fuzz}
  - {name: embed, ${openai}, model: text-embedding-3-small, modelNameOverride: embed-fuzz}
  - {name: image, ${openai}, model: dall-e-3, modelNameOverride: image-fuzz}
  - {name: mod, ${openai}, model: omni-moderation-latest, modelNameOverride: mod-fuzz}
  - {name: stt, ${openai}, model: whisper-1, modelNameOverride: stt-fuzz}
  - {name: editor, ${openai}, model: gpt-image-1, modelNameOverride: edit-fuzz}
  - {name: claude, provider: anthropic, baseUrl: "${claude.baseUrl}", auth: {apiKeyRef: {name: anthropic-key}}, model: claude-sonnet-4-5, modelNameOverride: claude-fuzz}
  - {name: gemini, provider: google-gemini, baseUrl: "${gemini.baseUrl}", auth: {apiKeyRef: {name: gemini-key}}, model: gemini-2.5-flash, modelNameOverride: gemini-fuzz}
  - {name: junk-openai, ${junk('openai', '/v1', 'openai-key')}, model: gpt-4o-mini, modelNameOverride: junk-openai}
  - {name: junk-embed, ${junk('openai', '/v1', 'openai-key')}, model: text-embedding-3-small, modelNameOverride: junk-embed}
  - {name: junk-claude, ${junk('anthropic', '', 'anthropic-key')}, model: claude-sonnet-4-5, modelNameOverride: junk-claude}
  - {name: junk-gemini, ${junk('google-gemini', '/v1beta', 'gemini-key')}, model: gemini-2.5-flash, modelNameOverride: junk-gemini}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: SECRETS.openai,
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: SECRETS.anthropic,
      AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: SECRETS.gemini,
    });
  });
  after(async () => {
    if (failed) console.log(`bad-input fuzz failed; replay with FUZZ_SEED=${SEED}`);
    await gateway.stop();
    await Promise.all([upstream.stop(), claude.stop(), gemini.stop(), scripted.stop()]);
  });

  it(`answers malformed requests with a 4xx in each API's error format, never calling the upstream (seed ${SEED})`, async () => {
    const rng = new Rng(SEED);
    const failures: string[] = [];
    let index = 0;
    const translated = ['chat', 'responses', 'messages', 'gemini generateContent'];
    const plan: [Endpoint, number][] = [
      ...endpoints('gpt-fuzz', 'embed-fuzz').map((e): [Endpoint, number] => [
        e,
        CASES_PER_ENDPOINT,
      ]),
      ...['gpt-fuzz', 'claude-fuzz', 'gemini-fuzz'].flatMap((model) =>
        richEndpoints(model).map((e): [Endpoint, number] => [e, CASES_PER_RICH_ENDPOINT]),
      ),
      ...['claude-fuzz', 'gemini-fuzz'].flatMap((model) =>
        endpoints(model, 'embed-fuzz')
          .filter((e) => translated.includes(e.name) || e.name.includes('stream'))
          .map((e): [Endpoint, number] => [e, CASES_PER_TRANSLATED_ENDPOINT]),
      ),
    ];
    for (const [endpoint, cases] of plan) {
      for (let i = 0; i < cases; i++, index++) {
        // The first, unchanged, is answered: else refusing every case would prove nothing.
        const attempt = i === 0 ? unchanged(endpoint) : mutate(endpoint, rng);
        try {
          const describeIt = describeAttempt(endpoint, attempt, index);
          const callsBefore = upstreamCalls();
          const answer = await send(gateway, attempt, describeIt);
          const called = upstreamCalls() - callsBefore;
          if (i === 0) {
            assert.equal(answer.status, 200, `${describeIt}: ${answer.text.slice(0, 300)}`);
          }
          assertNoSecret(answer, describeIt);
          assert.ok(
            answer.status < 500,
            `${describeIt}: answered ${answer.status}: ${answer.text.slice(0, 300)}`,
          );
          if (attempt.mustRefuse) {
            assert.ok(
              answer.status >= 400,
              `${describeIt}: accepted (${answer.status}): ${answer.text.slice(0, 200)}`,
            );
          }
          if (answer.status >= 400) {
            assertErrorShape(endpoint.format, answer.status, answer.text, describeIt);
            // A 4xx of the gateway's own never reaches the upstream; one the upstream
            // sent (a model refusing a setting) is relayed, naming the backend.
            if (called > 0) {
              assert.match(
                answer.text,
                /backend \\"[^"\\]+\\" answered 4\d\d/,
                `${describeIt}: refused with ${answer.status} but the upstream was called: ${answer.text.slice(0, 300)}`,
              );
            }
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }
    report(failures);
  });

  /** Each client endpoint on each backend kind, plain and streamed where it streams. */
  function scriptedPairs(): [Endpoint, Provider, boolean][] {
    const pairs: [Endpoint, Provider, boolean][] = [];
    for (const [model, provider] of [
      ['junk-openai', 'openai'],
      ['junk-claude', 'anthropic'],
      ['junk-gemini', 'gemini'],
    ] as const) {
      for (const endpoint of endpoints(model, 'junk-embed')) {
        if (['images', 'moderations', 'count_tokens'].includes(endpoint.name)) continue;
        if (endpoint.name.includes('mbedContent')) continue;
        // Only OpenAI's wire has legacy completions and (here) embeddings.
        if (['embeddings', 'completions'].includes(endpoint.name) && provider !== 'openai') {
          continue;
        }
        // Gemini's stream is its own path; the others ask for one in the body.
        const streams =
          endpoint.format === 'gemini'
            ? [endpoint.path.includes('streamGenerateContent')]
            : endpoint.name === 'embeddings'
              ? [false]
              : [false, true];
        for (const stream of streams) pairs.push([endpoint, provider, stream]);
      }
    }
    return pairs;
  }

  /**
   * Sends the endpoint's valid request with the scripted backend answering each call as
   * `script` says; returns the client's answer and a description naming what was sent.
   */
  async function sendScripted(
    endpoint: Endpoint,
    stream: boolean,
    script: (call: ScriptedCall) => Scripted,
    what: string,
  ): Promise<{ answer: Answer; describeIt: string; shown: string; isStream: boolean }> {
    const labels: string[] = [];
    scripted.script = (call) => {
      const scriptedAnswer = script(call);
      const sent = Buffer.concat(scriptedAnswer.parts).toString('utf8').slice(0, 200);
      labels.push(`${scriptedAnswer.label} (${scriptedAnswer.status}: ${JSON.stringify(sent)})`);
      return scriptedAnswer;
    };
    const body =
      stream && endpoint.format !== 'gemini'
        ? { ...(endpoint.body as Record<string, Json>), stream: true }
        : endpoint.body;
    const attempt: Attempt = {
      method: 'POST',
      path: endpoint.path,
      contentType: 'application/json',
      body: Buffer.from(JSON.stringify(body)),
      mutation: 'valid',
      mustRefuse: false,
    };
    const callsBefore = scripted.calls;
    const answer = await send(gateway, attempt, what);
    const describeIt = `${what} stream=${stream} upstream answered: ${labels.join(', ')}`;
    assert.ok(scripted.calls > callsBefore, `${describeIt}: the backend was not called`);
    assertNoSecret(answer, describeIt);
    const shown = `${describeIt}; client got ${answer.status}: ${answer.text.slice(0, 400)}`;
    const isStream = (answer.headers.get('content-type') ?? '').startsWith('text/event-stream');
    if (isStream) assert.ok(stream, `an event stream for a plain request: ${shown}`);
    return { answer, describeIt, shown, isStream };
  }

  it(`answers an upstream's garbage with a 5xx in the right format or a stream error event (seed ${SEED})`, async () => {
    const rng = new Rng(SEED ^ 0x9e37_79b9);
    const failures: string[] = [];
    let index = 0;
    for (const [endpoint, provider, stream] of scriptedPairs()) {
      for (let i = 0; i < GARBAGE_PER_PAIR; i++, index++) {
        const seed = rng.int(2 ** 31);
        try {
          const { answer, describeIt, shown, isStream } = await sendScripted(
            endpoint,
            stream,
            (call) => garbage(provider, call, new Rng(seed), SECRETS[provider]),
            `[FUZZ_SEED=${SEED} garbage case ${index}] ${endpoint.name} on ${provider}`,
          );
          if (answer.status === 200 && isStream) {
            assert.ok(
              !looksFinished(endpoint.format, endpoint.path, answer.text),
              `a broken stream looks finished: ${shown}`,
            );
            assert.ok(
              hasErrorEvent(endpoint.format, endpoint.path, answer.text),
              `no error event: ${shown}`,
            );
          } else {
            assert.ok(answer.status >= 400, `garbage answered as a success: ${shown}`);
            assertErrorShape(endpoint.format, answer.status, answer.text, describeIt);
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }
    report(failures);
  });

  it(`answers an upstream answer with one field of a wrong type as a readable answer or a 502-504, never a 500 (seed ${SEED})`, async () => {
    const rng = new Rng(SEED ^ 0x85eb_ca6b);
    const failures: string[] = [];
    let index = 0;
    for (const [endpoint, provider, stream] of scriptedPairs()) {
      for (let i = 0; i < RESHAPED_PER_PAIR; i++, index++) {
        const seed = rng.int(2 ** 31);
        try {
          const { answer, describeIt, shown, isStream } = await sendScripted(
            endpoint,
            stream,
            (call) => reshaped(provider, call, new Rng(seed)),
            `[FUZZ_SEED=${SEED} reshaped case ${index}] ${endpoint.name} on ${provider}`,
          );
          if (answer.status >= 400) {
            // The backend's fault, said as such: a 500 would be the gateway's own failure.
            assert.ok(answer.status >= 502 && answer.status <= 504, `not a 502-504: ${shown}`);
            assertErrorShape(endpoint.format, answer.status, answer.text, describeIt);
          } else if (isStream) {
            const finished = looksFinished(endpoint.format, endpoint.path, answer.text);
            const failed = hasErrorEvent(endpoint.format, endpoint.path, answer.text);
            assert.ok(finished !== failed, `a stream must end finished or failed: ${shown}`);
          } else {
            assert.equal(answer.status, 200, shown);
            assertReadable(endpoint, answer.text, shown);
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }
    report(failures);
  });

  it(`answers malformed requests sent many at a time the same way (seed ${SEED})`, async () => {
    const rng = new Rng(SEED ^ 0x27d4_eb2f);
    const all = endpoints('gpt-fuzz', 'embed-fuzz');
    const attempts = Array.from({ length: BURST }, (_, index) => {
      const endpoint = rng.pick(all);
      return { endpoint, attempt: mutate(endpoint, rng), index };
    });
    const failures: string[] = [];
    // In waves of BURST_WIDTH: each wave's requests in flight together.
    for (let start = 0; start < attempts.length; start += BURST_WIDTH) {
      await Promise.all(
        attempts.slice(start, start + BURST_WIDTH).map(async ({ endpoint, attempt, index }) => {
          const describeIt = `[burst] ${describeAttempt(endpoint, attempt, index)}`;
          try {
            const answer = await send(gateway, attempt, describeIt);
            assertNoSecret(answer, describeIt);
            assert.ok(answer.status < 500, `${describeIt}: answered ${answer.status}`);
            if (attempt.mustRefuse) assert.ok(answer.status >= 400, `${describeIt}: accepted`);
            if (answer.status >= 400) {
              assertErrorShape(endpoint.format, answer.status, answer.text, describeIt);
            }
          } catch (error) {
            failures.push((error as Error).message);
          }
        }),
      );
    }
    report(failures);
  });

  it(`answers malformed multipart forms (audio, image edits) with a 4xx in OpenAI's shape (seed ${SEED})`, async () => {
    const rng = new Rng(SEED ^ 0x1656_67b1);
    const failures: string[] = [];
    const forms: [string, FormPart[]][] = [
      [
        '/v1/audio/transcriptions',
        [
          { name: 'model', value: 'stt-fuzz' },
          { name: 'file', value: WAV, filename: 'clip.wav', type: 'audio/wav' },
          { name: 'response_format', value: 'json' },
        ],
      ],
      [
        '/v1/images/edits',
        [
          { name: 'model', value: 'edit-fuzz' },
          { name: 'prompt', value: 'a hat' },
          { name: 'image', value: PNG, filename: 'cat.png', type: 'image/png' },
        ],
      ],
    ];
    let index = 0;
    for (const [path, parts] of forms) {
      for (let i = 0; i < MULTIPART_CASES; i++, index++) {
        const attempt =
          i === 0 ? multipartAttempt(path, parts, 'none', false) : mutateForm(path, parts, rng);
        const describeIt = `[FUZZ_SEED=${SEED} form case ${index}] POST ${path} mutation=${attempt.mutation} content-type=${attempt.contentType}`;
        try {
          const callsBefore = upstreamCalls();
          const answer = await send(gateway, attempt, describeIt);
          const called = upstreamCalls() - callsBefore;
          const shown = `${describeIt}: ${answer.status} ${answer.text.slice(0, 300)}`;
          assertNoSecret(answer, describeIt);
          if (i === 0) assert.equal(answer.status, 200, shown);
          assert.ok(answer.status < 500, shown);
          if (attempt.mustRefuse) assert.ok(answer.status >= 400, `accepted: ${shown}`);
          if (answer.status >= 400) {
            assertErrorShape('openai', answer.status, answer.text, describeIt);
            if (called > 0)
              assert.match(
                answer.text,
                /backend \\"[^"\\]+\\" answered 4\d\d/,
                `upstream called: ${shown}`,
              );
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }
    report(failures);
  });

  // Cases the fuzzing found, kept as examples (each was a 200 before its fix).
  it('refuses an embeddings input or a completion prompt of a type OpenAI does not take, calling nothing', async () => {
    for (const [path, fields] of [
      ['/v1/embeddings', { model: 'embed-fuzz', input: 9007199254740992 }],
      ['/v1/embeddings', { model: 'embed-fuzz', input: true }],
      ['/v1/embeddings', { model: 'embed-fuzz', input: {} }],
      ['/v1/completions', { model: 'gpt-fuzz', prompt: 5 }],
    ] as const) {
      const callsBefore = upstream.calls.length;
      const response = await fetch(`${gateway.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(fields),
      });
      const text = await response.text();
      assert.equal(response.status, 400, `${JSON.stringify(fields)}: ${text}`);
      assertErrorShape('openai', 400, text, JSON.stringify(fields));
      const error = (JSON.parse(text) as { error: { param?: string } }).error;
      assert.equal(error.param, 'input' in fields ? 'input' : 'prompt');
      assert.equal(upstream.calls.length, callsBefore, 'the upstream is not called');
    }
  });

  it("answers an OpenAI backend's unreadable answer with a 502 in each API's shape", async () => {
    const unreadable: [string, Json][] = [
      ['junk-openai', { choices: [{ message: null }] }],
      ['junk-openai', { choices: [{ message: { content: 5 } }] }],
      // The Messages edge read each tool call: a null one was a 500 (a TypeError).
      ['junk-openai', { choices: [{ message: { content: null, tool_calls: [null] } }] }],
      ['junk-embed', { data: [{ embedding: 'x' }] }],
    ];
    for (const [model, answer] of unreadable) {
      scripted.script = () => ({
        status: 200,
        contentType: 'application/json',
        parts: [Buffer.from(JSON.stringify(answer))],
        drop: false,
        label: 'example',
      });
      const paths: [string, Format, Json][] =
        model === 'junk-embed'
          ? [['/v1/embeddings', 'openai', { model, input: 'hi' }]]
          : [
              ['/v1/chat/completions', 'openai', { model, messages: USER_TURN }],
              ['/v1/responses', 'openai', { model, input: 'hi' }],
              ['/v1/messages', 'anthropic', { model, max_tokens: 5, messages: USER_TURN }],
              [`/v1beta/models/${model}:generateContent`, 'gemini', GEMINI_BODY],
            ];
      for (const [path, format, body] of paths) {
        const response = await fetch(`${gateway.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const text = await response.text();
        const shown = `${path} on ${JSON.stringify(answer)}: ${text}`;
        assert.equal(response.status, 502, shown);
        assertErrorShape(format, 502, text, shown);
      }
    }
  });

  it('ends a stream whose tool call fragment is null with its error event on every edge, as the backend fault it is', async () => {
    const chunk = (delta: Json) =>
      `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
    scripted.script = () => ({
      status: 200,
      contentType: 'text/event-stream',
      parts: [
        chunk({ role: 'assistant', content: 'Hi' }),
        chunk({ tool_calls: [null] }),
        'data: [DONE]\n\n',
      ].map((part) => Buffer.from(part)),
      drop: false,
      label: 'example',
    });
    const internal = () => (gateway.output().match(/request failed unexpectedly/g) ?? []).length;
    const before = internal();
    for (const endpoint of endpoints('junk-openai', 'junk-embed')) {
      if (
        !['chat', 'responses', 'messages', 'gemini streamGenerateContent'].includes(endpoint.name)
      )
        continue;
      const { answer, shown, isStream } = await sendScripted(
        endpoint,
        true,
        scripted.script,
        `null tool call: ${endpoint.name}`,
      );
      assert.equal(answer.status, 200, shown);
      assert.ok(isStream, shown);
      assert.ok(
        hasErrorEvent(endpoint.format, endpoint.path, answer.text),
        `no error event: ${shown}`,
      );
      assert.ok(!looksFinished(endpoint.format, endpoint.path, answer.text), shown);
    }
    // The Gemini edge's translator failed on it (a TypeError, logged as the gateway's own).
    assert.equal(internal(), before, 'counted as a failure of the gateway');
  });

  it('still answers a valid request, and its /metrics still scrape, after the fuzzing', async () => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-fuzz', messages: USER_TURN }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    assert.equal(body.choices[0]?.message.content, 'Hello from the fake upstream.');
    const metrics = await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`);
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.ok(metricSum(text, 'ai_gateway_requests_total', {}) > 300, 'every request counted');
    for (const secret of Object.values(SECRETS)) assert.ok(!text.includes(secret));
    // Its own log: no provider key, and nothing it counted as its own failure (a bug it
    // caught and answered, say, or a promise nobody awaited).
    const log = gateway.output();
    for (const secret of Object.values(SECRETS))
      assert.ok(!log.includes(secret), 'a key in the log');
    const failures = log
      .split('\n')
      .filter((line) => /"level":"(error|fatal)"|Unhandled|uncaught/i.test(line));
    assert.deepEqual(failures, [], 'the gateway logged failures of its own');
  });
});
