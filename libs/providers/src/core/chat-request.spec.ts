import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { heldFileRefused, parseChatRequest } from './chat-request';

function rejects(body: JsonObject, param: string | undefined, message: RegExp): void {
  assert.throws(
    () => parseChatRequest(body),
    (error: unknown) =>
      error instanceof DataPlaneError &&
      error.code === DataPlaneErrorCode.InvalidRequest &&
      error.httpStatus === 400 &&
      error.param === param &&
      message.test(error.message),
  );
}

const user = [{ role: 'user', content: 'hi' }];

describe('parseChatRequest', () => {
  it("keeps an earlier call's arguments sent as an object (vLLM and Ollama take them so), not {}", () => {
    const call = (args: unknown) =>
      parseChatRequest({
        messages: [
          ...user,
          {
            role: 'assistant',
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: args } }],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'ok' },
        ],
      }).turns.flatMap((turn) => (turn.role === 'assistant' ? turn.toolCalls : []))[0];
    const sent = call({ city: 'Paris' });
    assert.deepEqual(sent.arguments, { city: 'Paris' });
    assert.equal(sent.argumentsJson, '{"city":"Paris"}');
    // None at all is none: {}.
    assert.deepEqual(call(undefined).arguments, {});
    assert.deepEqual(call(null).arguments, {});
  });

  it('reads system, turns, tools and settings', () => {
    const prompt = parseChatRequest({
      messages: [{ role: 'developer', content: 'rules' }, ...user],
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: 'auto',
      max_completion_tokens: 10,
      stop: 'x',
    });
    assert.deepEqual(prompt.system, ['rules']);
    assert.deepEqual(prompt.tools, [
      { name: 'f', description: undefined, parameters: { type: 'object', properties: {} } },
    ]);
    assert.equal(prompt.maxTokens, 10);
    assert.deepEqual(prompt.stop, ['x']);
  });

  it('takes tool names up to the backend limit: 64 by default, 128 where the backend says', () => {
    const long = `mcp__plugin_server__${'a'.repeat(80)}`;
    const body = { messages: user, tools: [{ type: 'function', function: { name: long } }] };
    assert.throws(
      () => parseChatRequest(body),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'tools[0].function.name' &&
        error.message.includes(`'${long}'`) &&
        /at most 64/.test(error.message),
    );
    assert.equal(parseChatRequest(body, { toolNameLimit: 128 }).tools[0]?.name, long);
    const tooLong = {
      messages: user,
      tools: [{ type: 'function', function: { name: 'a'.repeat(129) } }],
    };
    assert.throws(() => parseChatRequest(tooLong, { toolNameLimit: 128 }), /at most 128/);
    rejects(
      { messages: user, tools: [{ type: 'function', function: { name: 'a.b' } }] },
      'tools[0].function.name',
      /letters, digits, underscores or dashes/,
    );
  });

  it('reads a PDF by URL only for a backend that fetches it, else a 400 saying so', () => {
    const url = 'https://example.com/paper.pdf';
    const body = {
      messages: [
        {
          role: 'user',
          content: [{ type: 'file', file: { file_url: url, filename: 'paper' } }],
        },
      ],
    };
    const prompt = parseChatRequest(body, { documentUrls: true });
    assert.deepEqual(prompt.turns[0], {
      role: 'user',
      parts: [{ kind: 'document-url', url, filename: 'paper' }],
    });
    rejects(body, 'messages[0].content[0].file.file_url', /cannot take a PDF document by URL/);
  });

  it('lets logprobs through when it asks for none', () => {
    assert.doesNotThrow(() =>
      parseChatRequest({ messages: user, logprobs: false, top_logprobs: 0 }),
    );
  });

  it('names the field at fault in every rejection', () => {
    rejects({ messages: [] }, 'messages', /non-empty/);
    rejects({ messages: user, n: 2 }, 'n', /one choice/);
    rejects({ messages: user, logprobs: true }, 'logprobs', /log probabilities/);
    rejects({ messages: user, seed: 1.5 }, 'seed', /integer/);
    rejects({ messages: user, top_logprobs: 3 }, 'logprobs', /log probabilities/);
    rejects({ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role', /role/);
    rejects(
      { messages: user, tools: [{ type: 'function', function: { name: 'f', parameters: [] } }] },
      'tools[0].function.parameters',
      /JSON Schema object/,
    );
    rejects(
      {
        messages: user,
        tools: [
          {
            type: 'function',
            function: { name: 'f', parameters: { type: 'object', properties: 3 } },
          },
        ],
      },
      'tools[0].function.parameters',
      /properties/,
    );
    rejects({ messages: user, tools: [{ type: 'retrieval' }] }, 'tools[0]', /"type": "function"/);
    rejects(
      {
        messages: user,
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: { type: 'function', function: { name: 'g' } },
      },
      'tool_choice',
      /not in tools/,
    );
    rejects(
      {
        messages: [
          {
            role: 'assistant',
            tool_calls: [
              { id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } },
            ],
          },
        ],
      },
      'messages[0].tool_calls[0].function.arguments',
      /JSON object/,
    );
    rejects(
      {
        messages: [
          {
            role: 'assistant',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: 5 } }],
          },
        ],
      },
      'messages[0].tool_calls[0].function.arguments',
      /JSON object/,
    );
    rejects(
      { messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] },
      'messages[0].tool_call_id',
      /does not match/,
    );
    rejects({ messages: user, max_tokens: 0 }, 'max_tokens', /positive integer/);
    rejects(
      { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] },
      'messages[0].content[0]',
      /cannot take/,
    );
  });

  it('refuses tool_choice "required" with no tool to call, as OpenAI does, but not auto or none', () => {
    for (const tools of [undefined, []]) {
      rejects({ messages: user, tools, tool_choice: 'required' }, 'tool_choice', /tools/);
    }
    for (const choice of ['auto', 'none']) {
      assert.equal(
        parseChatRequest({ messages: user, tool_choice: choice }).toolChoice?.kind,
        choice,
      );
    }
    const tools = [{ type: 'function', function: { name: 'f' } }];
    const offered = parseChatRequest({ messages: user, tools, tool_choice: 'required' });
    assert.deepEqual(offered.toolChoice, { kind: 'required' });
    // A Messages client's `any` over Anthropic's server tools alone has a tool to call.
    const search = { type: 'web_search_20250305', name: 'web_search' };
    const served = parseChatRequest(
      {
        messages: user,
        tool_choice: 'required',
        provider_extras: { anthropic_server_tools: [search] },
      },
      { anthropicServerTools: new Set(['web_search'] as const) },
    );
    assert.deepEqual(served.toolChoice, { kind: 'required' });
  });

  it('refuses custom tools, their calls and allowed_tools, naming the limitation, never dropping them', () => {
    const fn = { type: 'function', function: { name: 'f' } };
    const limitation = /custom tool.*function tools only.*OpenAI-format backends/;
    rejects(
      { messages: user, tools: [fn, { type: 'custom', custom: { name: 'apply_patch' } }] },
      'tools[1]',
      limitation,
    );
    rejects(
      {
        messages: user,
        tools: [fn],
        tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } },
      },
      'tool_choice',
      /allowed_tools: this backend takes function tools only/,
    );
    rejects(
      {
        messages: [
          ...user,
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'c', type: 'custom', custom: { name: 'apply_patch', input: '*** Begin' } },
            ],
          },
        ],
      },
      'messages[1].tool_calls[0]',
      /calls a custom tool: this backend takes function tools only/,
    );
  });

  it('reads top_k and safety_settings from provider_extras, and not a top-level top_k', () => {
    const safety = [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }];
    const prompt = parseChatRequest({
      messages: user,
      top_k: 3,
      provider_extras: { top_k: 40, safety_settings: safety },
    });
    assert.equal(prompt.topK, 40);
    assert.deepEqual(prompt.safetySettings, safety);
    const plain = parseChatRequest({ messages: user, top_k: 3 });
    assert.equal(plain.topK, undefined);
    assert.equal(plain.safetySettings, undefined);
  });

  it('reads n as choices where the backend answers several, and refuses a bad one', () => {
    assert.equal(parseChatRequest({ messages: user, n: 3 }, { choices: true }).choices, 3);
    assert.equal(parseChatRequest({ messages: user, n: 1 }, { choices: true }).choices, undefined);
    assert.equal(parseChatRequest({ messages: user, n: 1 }).choices, undefined);
    for (const n of [0, 1.5]) {
      assert.throws(
        () => parseChatRequest({ messages: user, n }, { choices: true }),
        (error: unknown) => error instanceof DataPlaneError && error.param === 'n',
      );
    }
  });

  it('rejects provider_extras of a bad shape, naming the field', () => {
    rejects({ messages: user, provider_extras: 'x' }, 'provider_extras', /must be an object/);
    rejects({ messages: user, provider_extras: { top_k: -1 } }, 'top_k', /at least 0/);
    rejects({ messages: user, provider_extras: { top_k: '4' } }, 'top_k', /at least 0/);
    rejects(
      { messages: user, provider_extras: { safety_settings: [1] } },
      'safety_settings',
      /list of objects/,
    );
  });

  it('reads presence_penalty and frequency_penalty, absent when left out or null', () => {
    const prompt = parseChatRequest({
      messages: user,
      presence_penalty: -2,
      frequency_penalty: 0.5,
    });
    assert.equal(prompt.presencePenalty, -2);
    assert.equal(prompt.frequencyPenalty, 0.5);
    const bare = parseChatRequest({ messages: user, presence_penalty: null });
    assert.equal(bare.presencePenalty, undefined);
    assert.equal(bare.frequencyPenalty, undefined);
  });

  it('rejects a penalty that is not a number or outside -2 to 2, naming the field', () => {
    for (const field of ['presence_penalty', 'frequency_penalty']) {
      rejects({ messages: user, [field]: '1' }, field, /must be a number/);
      rejects({ messages: user, [field]: true }, field, /must be a number/);
      rejects({ messages: user, [field]: 2.5 }, field, /between -2 and 2/);
      rejects({ messages: user, [field]: -2.01 }, field, /between -2 and 2/);
    }
  });

  it('reads response_format into a text, json_object or json_schema format', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } } };
    const formatOf = (response_format: unknown) =>
      parseChatRequest({ messages: user, response_format }).responseFormat;
    assert.equal(formatOf(undefined), undefined);
    assert.equal(formatOf(null), undefined);
    assert.deepEqual(formatOf({ type: 'text' }), { kind: 'text' });
    assert.deepEqual(formatOf({ type: 'json_object' }), { kind: 'json_object' });
    assert.deepEqual(
      formatOf({
        type: 'json_schema',
        json_schema: { name: 'weather', description: 'A report', schema, strict: true },
      }),
      { kind: 'json_schema', name: 'weather', description: 'A report', schema, strict: true },
    );
    // OpenAI's default is not strict; null is how some SDKs leave it out.
    assert.deepEqual(
      formatOf({ type: 'json_schema', json_schema: { name: 'weather', schema, strict: null } }),
      { kind: 'json_schema', name: 'weather', schema, strict: false },
    );
  });

  it('rejects a response_format of a bad shape before any call, naming the field', () => {
    const schema = { type: 'object' };
    const bad: [unknown, RegExp][] = [
      ['json_object', /must be an object with a type/],
      [['json_object'], /must be an object with a type/],
      [{}, /type must be "text", "json_object" or "json_schema"/],
      [{ type: 'xml' }, /type must be "text", "json_object" or "json_schema"/],
      [{ type: 'json_schema' }, /json_schema must be an object with a name and a schema/],
      [{ type: 'json_schema', json_schema: 'weather' }, /json_schema must be an object/],
      [{ type: 'json_schema', json_schema: { schema } }, /name must be 1-64 letters/],
      [{ type: 'json_schema', json_schema: { name: 'a b', schema } }, /name must be 1-64/],
      [{ type: 'json_schema', json_schema: { name: 'w' } }, /schema must be a JSON Schema object/],
      [
        { type: 'json_schema', json_schema: { name: 'w', schema: '{"type":"object"}' } },
        /schema must be a JSON Schema object/,
      ],
      [
        { type: 'json_schema', json_schema: { name: 'w', schema: [schema] } },
        /schema must be a JSON Schema object/,
      ],
      [
        { type: 'json_schema', json_schema: { name: 'w', schema, strict: 'yes' } },
        /strict must be a boolean/,
      ],
      [
        { type: 'json_schema', json_schema: { name: 'w', schema, description: 3 } },
        /description must be a string/,
      ],
    ];
    for (const [response_format, message] of bad) {
      rejects({ messages: user, response_format }, 'response_format', message);
    }
  });

  it('reads the reasoning asked for: thinking before reasoning_effort, none as off', () => {
    assert.equal(parseChatRequest({ messages: user }).reasoning, undefined);
    assert.deepEqual(
      parseChatRequest({
        messages: user,
        thinking: { type: 'enabled', budget_tokens: 3000 },
        reasoning_effort: 'low',
      }).reasoning,
      { kind: 'budget', budgetTokens: 3000 },
    );
    assert.deepEqual(
      parseChatRequest({ messages: user, thinking: { type: 'disabled' } }).reasoning,
      { kind: 'off' },
    );
    assert.deepEqual(parseChatRequest({ messages: user, reasoning_effort: 'high' }).reasoning, {
      kind: 'effort',
      effort: 'high',
    });
    assert.deepEqual(parseChatRequest({ messages: user, reasoning_effort: 'none' }).reasoning, {
      kind: 'off',
    });
    // Adaptive thinking (Claude 4.6 and later) at the effort given beside it, if any.
    assert.deepEqual(
      parseChatRequest({
        messages: user,
        thinking: { type: 'adaptive', display: 'summarized' },
        reasoning_effort: 'max',
      }).reasoning,
      { kind: 'adaptive', effort: 'max', display: 'summarized' },
    );
    assert.deepEqual(
      parseChatRequest({ messages: user, thinking: { type: 'adaptive' } }).reasoning,
      { kind: 'adaptive' },
    );
    // A Messages client's effort arrives in Anthropic's output_config.
    assert.deepEqual(
      parseChatRequest({
        messages: user,
        thinking: { type: 'adaptive' },
        output_config: { effort: 'low' },
      }).reasoning,
      { kind: 'adaptive', effort: 'low' },
    );
    assert.deepEqual(
      parseChatRequest({ messages: user, output_config: { effort: 'medium' } }).reasoning,
      { kind: 'effort', effort: 'medium' },
    );
    rejects(
      { messages: user, output_config: { effort: 'extreme' } },
      'output_config.effort',
      /one of none/,
    );
    rejects({ messages: user, reasoning_effort: 'extreme' }, 'reasoning_effort', /one of none/);
    rejects(
      { messages: user, thinking: { type: 'enabled', budget_tokens: 100 } },
      'thinking',
      /at least 1024/,
    );
  });

  it("keeps an assistant turn's thinking blocks in order, and refuses malformed ones", () => {
    const blocks = [
      { type: 'thinking', thinking: 'Look it up.', signature: 'sig-1' },
      { type: 'redacted_thinking', data: 'ZW5j' },
    ];
    const prompt = parseChatRequest({
      messages: [...user, { role: 'assistant', content: 'ok', thinking_blocks: blocks }],
    });
    const turn = prompt.turns[1];
    assert.equal(turn.role, 'assistant');
    assert.deepEqual(turn.role === 'assistant' ? turn.thinking : undefined, blocks);
    rejects(
      {
        messages: [...user, { role: 'assistant', content: 'ok', thinking_blocks: [{ type: 'x' }] }],
      },
      'messages[1].thinking_blocks[0]',
      /must be \{"type": "thinking"/,
    );
  });

  it("reads a tool call's extra_content.google.thought_signature, and nothing when it has none", () => {
    const call = (id: string, extra?: unknown) => ({
      id,
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      ...(extra === undefined ? {} : { extra_content: extra }),
    });
    const prompt = parseChatRequest({
      messages: [
        ...user,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            call('c1', { google: { thought_signature: 'CqUBAdHtim9s' } }),
            call('c2'),
            call('c3', { google: { thought_signature: null } }),
            call('c4', { google: { thought_signature: '' } }),
            call('c5', { other_vendor: { x: 1 } }),
            call('c6', null),
          ],
        },
      ],
    });
    const turn = prompt.turns[1];
    if (turn.role !== 'assistant') return assert.fail('expected an assistant turn');
    assert.equal(turn.toolCalls[0].thoughtSignature, 'CqUBAdHtim9s');
    // No key at all where there is no signature, so other adapters' calls are unchanged.
    for (const unsigned of turn.toolCalls.slice(1)) {
      assert.ok(!('thoughtSignature' in unsigned), unsigned.id);
    }
  });

  it('refuses a thought signature that is not a string, or extra_content of the wrong shape, naming the field', () => {
    const withExtra = (extra: unknown) => ({
      messages: [
        ...user,
        {
          role: 'assistant',
          tool_calls: [
            { id: 'c', type: 'function', function: { name: 'f' }, extra_content: extra },
          ],
        },
      ],
    });
    const at = 'messages[1].tool_calls[0].extra_content';
    rejects(
      withExtra({ google: { thought_signature: 42 } }),
      `${at}.google.thought_signature`,
      /must be a string/,
    );
    rejects(
      withExtra({ google: { thought_signature: ['a'] } }),
      `${at}.google.thought_signature`,
      /must be a string/,
    );
    rejects(withExtra({ google: 'sig' }), `${at}.google`, /must be an object/);
    rejects(withExtra('sig'), at, /must be an object/);
  });

  describe('a thought signature carried in the tool call id', () => {
    // Gemini's signatures are base64 of opaque bytes; the id carries those bytes as base64url.
    const signature = Buffer.from([0xfb, 0xff, 0x01, 0x3e, 0x10]).toString('base64'); // '+/8BPhA='
    const inId = Buffer.from(signature, 'base64').toString('base64url'); // '-_8BPhA'

    function toolCallsOf(calls: JsonObject[]) {
      const prompt = parseChatRequest({
        messages: [...user, { role: 'assistant', content: null, tool_calls: calls }],
      });
      const turn = prompt.turns[1];
      if (turn.role !== 'assistant') return assert.fail('expected an assistant turn');
      return turn.toolCalls;
    }
    const call = (id: string, extra?: JsonObject): JsonObject => ({
      id,
      type: 'function',
      function: { name: 'get_weather', arguments: '{}' },
      ...(extra === undefined ? {} : { extra_content: extra }),
    });

    it('decodes the signature from an id rebuilt without extra_content, the id short again', () => {
      const [rebuilt] = toolCallsOf([call(`call_abc__gts__${inId}`)]);
      assert.equal(rebuilt.thoughtSignature, signature);
      // Every backend gets the short id (OpenAI and others cap ids), its result too.
      assert.equal(rebuilt.id, 'call_abc');
      const prompt = parseChatRequest({
        messages: [
          ...user,
          { role: 'assistant', content: null, tool_calls: [call(`call_abc__gts__${inId}`)] },
          { role: 'tool', tool_call_id: `call_abc__gts__${inId}`, content: 'sunny' },
        ],
      });
      const result = prompt.turns[2];
      assert.equal(result.role === 'tool' ? result.toolCallId : undefined, 'call_abc');
      assert.equal(result.role === 'tool' ? result.toolName : undefined, 'get_weather');
    });

    it('takes the signature in extra_content over the one in the id', () => {
      const [both] = toolCallsOf([
        call(`call_abc__gts__${inId}`, { google: { thought_signature: 'CqUBAdHtim9s' } }),
      ]);
      assert.equal(both.thoughtSignature, 'CqUBAdHtim9s');
    });

    it("reads a malformed or foreign id as no signature, never an error (it may be the client's own)", () => {
      const ids = [
        'call_abc', // no separator
        'toolu_01A09q90qw90lq917835lq9', // another provider's id
        'call_abc__gts__', // nothing after it
        'call_abc__gts__not base64!', // outside base64url
        'call_abc__gts__-_8BPhB', // non-canonical: its last character carries stray bits
        'call_abc__gts__-_8BPhA=', // padded
        `call_abc__gts__${'A'.repeat(4100)}`, // over the cap
      ];
      const [signed, ...unsigned] = toolCallsOf(
        [`call_abc__gts__${inId}`, ...ids].map((id) => call(id)),
      );
      assert.equal(signed.thoughtSignature, signature);
      for (const each of unsigned) assert.ok(!('thoughtSignature' in each), each.id);
      // An id that carries no signature of ours is the client's own: left whole.
      assert.deepEqual(
        unsigned.map((each) => each.id),
        ids,
      );
    });
  });
});

describe('heldFileRefused', () => {
  it('names the holder and the backend reached, and what can still send a call past the pin', () => {
    const error = heldFileRefused('gemini-a', 'openai-b');
    assert.equal(error.code, DataPlaneErrorCode.NoBackendAvailable);
    assert.match(
      error.message,
      /held by backend "gemini-a", but this call was not pinned to it and the gateway chose "openai-b"/,
    );
    assert.match(error.message, /held_by the gateway did not write/);
    assert.match(error.message, /router of an older version/);
    // The router pins such a call to its holder: balancing and cooldowns no longer choose.
    assert.doesNotMatch(error.message, /load balancing|cooldown/);
  });
});
