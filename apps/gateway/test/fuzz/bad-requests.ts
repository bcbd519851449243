// The public model endpoints with a valid body each, and the seeded mutations that
// break them (fields deleted or of wrong types, settings of odd values, bytes that are not
// JSON, codings, headers, methods, paths), each with whether any gateway must refuse it.
import { deflateSync, gzipSync } from 'node:zlib';
import { deep, depthOf, objectsOf, pathsOf, withChange, type Json, type Rng } from './seeded-json';

/** The settings each API has beside its required fields, for mutation 20. */
export const OPTIONAL_FIELDS: Readonly<Record<string, readonly string[]>> = {
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
export const PLAUSIBLE_VALUES: readonly Json[] = [
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
export const WRONG_VALUES: readonly ((rng: Rng) => Json)[] = [
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

export type Format = 'openai' | 'anthropic' | 'gemini';

export interface Endpoint {
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

export const isText = (v: Json) => typeof v === 'string' && v.length > 0;
export const isList = (v: Json) => Array.isArray(v) && v.length > 0;
export const isTextOrList = (v: Json) => typeof v === 'string' || isList(v);
export const isObject = (v: Json) => v !== null && typeof v === 'object' && !Array.isArray(v);
export const isCount = (v: Json) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

export const USER_TURN = [{ role: 'user', content: 'hi' }];
export const GEMINI_BODY = {
  contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
  generationConfig: { maxOutputTokens: 16, temperature: 0.2 },
};

export const PNG_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
export const PNG_DATA = PNG_URL.slice(PNG_URL.indexOf(',') + 1);
export const CITY_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
};

/**
 * Each chat API's request with much of what it can carry (system text, an image, a tool, an
 * earlier tool call and its result, sampling settings): more fields for
 * the mutations to break, and for the translations to a backend's API to read.
 */
export function richEndpoints(chat: string): Endpoint[] {
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

export function endpoints(chat: string, embed: string): Endpoint[] {
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

/** A key a client pasted into a URL: no answer may quote it. */
export const PASTED_KEY = 'sk-pasted-in-the-url-0123456789';

/** One request as sent, and whether any correct gateway must refuse it. */
export interface Attempt {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: Buffer | undefined;
  readonly mutation: string;
  readonly mustRefuse: boolean;
  /** Headers beside the content type. */
  readonly headers?: Readonly<Record<string, string>>;
}

export const BAD_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=zz',
  'application/xml',
  'application/json; charset=utf-16',
  'image/png',
];

/** Invalid UTF-8: a stray continuation, a truncated sequence, an encoded surrogate. */
export const BAD_UTF8 = [[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80]];

export function unchanged(endpoint: Endpoint): Attempt {
  return {
    method: 'POST',
    path: endpoint.path,
    contentType: 'application/json',
    body: Buffer.from(JSON.stringify(endpoint.body)),
    mutation: 'none (the valid body)',
    mustRefuse: false,
  };
}

export function mutate(endpoint: Endpoint, rng: Rng): Attempt {
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
  const kind = rng.int(21);
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
        'api-key',
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
      // The path. A malformed %-escape is refused by the router before any route: still a
      // 4xx in the API's shape, not quoting the URL (the key pasted in it is checked for).
      // Gemini's path names the model and method too: a bad one is a 4xx in Google's shape.
      const [target, query = ''] = endpoint.path.split('?');
      const suffix = query === '' ? '' : `?${query}`;
      const badEscape = rng.pick(['%ZZ', '%', '%E0%A4', '%C0%AF']) + PASTED_KEY;
      if (endpoint.format !== 'gemini') {
        const path = `${target}${badEscape}${suffix}`;
        return {
          ...base,
          path,
          body: Buffer.from(text),
          mutation: `path ${path}`,
          mustRefuse: true,
        };
      }
      const model = target.slice(target.indexOf('/models/') + 8, target.lastIndexOf(':'));
      const method = target.slice(target.lastIndexOf(':'));
      const paths: [string, boolean][] = [
        [target.replace(`/${model}:`, `/${badEscape}:`), true],
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
