import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type ThinkingBlock,
} from '@aigw/contracts/data-plane';
import { ENCRYPTED_REASONING_PREFIX, encodeReasoning } from './encrypted-reasoning';
import { responsesFacts, translateResponsesRequest } from './responses-request';

const base = { model: 'gpt-4.1' };

const WEATHER_TOOL = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
    additionalProperties: false,
  },
  strict: true,
};

// Thinking blocks as Anthropic returns them, signed or redacted.
const SIGNED: ThinkingBlock = {
  type: 'thinking',
  thinking: 'The user wants the weather; call get_weather.',
  signature: 'EqQBCkgIBxABGAIqQKz8a1y3sF0+9mQ/5c2d7/eHx0p4WmH1yJb2kLqS3tV9uR==',
};
const REDACTED: ThinkingBlock = {
  type: 'redacted_thinking',
  data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2Y==',
};

const WEATHER_CALL = {
  type: 'function_call',
  id: 'fc_1',
  call_id: 'call_a',
  name: 'get_weather',
  arguments: '{"city":"Paris"}',
  status: 'completed',
};

function chatOf(body: JsonObject): JsonObject {
  return translateResponsesRequest({ ...base, ...body }).chat;
}

function rejects(body: unknown, param: string, message: RegExp): void {
  assert.throws(
    () => translateResponsesRequest(body),
    (error: unknown) => {
      assert.ok(error instanceof DataPlaneError, String(error));
      assert.equal(error.code, DataPlaneErrorCode.InvalidRequest);
      assert.equal(error.httpStatus, 400);
      assert.equal(error.param, param);
      assert.match(error.message, message);
      // The OpenAI error body names the parameter too.
      assert.equal(error.toOpenAiBody().error.param, param);
      return true;
    },
  );
}

describe('Responses API request to OpenAI chat', () => {
  it('takes a string input as one user turn, and instructions as the system message', () => {
    assert.deepEqual(chatOf({ input: 'Hello' }), {
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    assert.deepEqual(chatOf({ input: 'Hello', instructions: 'Be terse.' }).messages, [
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'Hello' },
    ]);
  });

  it('maps the sampling fields, the user and the output limit', () => {
    assert.deepEqual(
      chatOf({
        input: 'hi',
        max_output_tokens: 300,
        temperature: 0.3,
        top_p: 0.8,
        user: 'user-7',
        metadata: { team: 'a' },
        store: true,
        include: ['reasoning.encrypted_content'],
        truncation: 'auto',
      }),
      {
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 300,
        temperature: 0.3,
        top_p: 0.8,
        user: 'user-7',
      },
    );
  });

  it('passes the settings chat completions takes too: cache key and retention, safety id, tier, verbosity', () => {
    // Codex CLI sends prompt_cache_key on every turn; without it OpenAI's cache hit rate
    // drops, and a tier or verbosity left out changes what the client is served.
    const chat = chatOf({
      input: 'hi',
      prompt_cache_key: 'conv-42',
      prompt_cache_retention: '24h',
      safety_identifier: 'hashed-user-7',
      service_tier: 'flex',
      text: { verbosity: 'low' },
    });
    assert.equal(chat.prompt_cache_key, 'conv-42');
    assert.equal(chat.prompt_cache_retention, '24h');
    assert.equal(chat.safety_identifier, 'hashed-user-7');
    assert.equal(chat.service_tier, 'flex');
    assert.equal(chat.verbosity, 'low');
    const plain = chatOf({ input: 'hi', prompt_cache_key: null, text: { verbosity: null } });
    assert.equal('prompt_cache_key' in plain, false);
    assert.equal('verbosity' in plain, false);
    rejects({ ...base, input: 'hi', prompt_cache_key: 7 }, 'prompt_cache_key', /a string/);
    rejects({ ...base, input: 'hi', service_tier: true }, 'service_tier', /a string/);
    rejects({ ...base, input: 'hi', text: { verbosity: 2 } }, 'text.verbosity', /a string/);
    // A verbosity OpenAI does not know is the client's text.verbosity at fault, not chat's.
    rejects(
      { ...base, input: 'hi', text: { verbosity: 'loud' } },
      'text.verbosity',
      /Invalid value for 'text.verbosity': .*low, medium, high/,
    );
    assert.equal(chatOf({ input: 'hi', text: { verbosity: 'high' } }).verbosity, 'high');
  });

  it('asks a stream for its usage chunk, where the reasoning token count arrives', () => {
    const chat = chatOf({ input: 'hi', stream: true });
    assert.equal(chat.stream, true);
    assert.deepEqual(chat.stream_options, { include_usage: true });
    assert.equal(chatOf({ input: 'hi', stream: false }).stream, undefined);
  });

  it('translates message items of every role, with text and image parts', () => {
    const chat = chatOf({
      input: [
        { role: 'developer', content: 'Answer in French.' },
        {
          type: 'message',
          role: 'system',
          content: [
            { type: 'input_text', text: 'Rule one.' },
            { type: 'input_text', text: 'Rule two.' },
          ],
        },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is in these pictures?' },
            { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'low' },
            { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=' },
          ],
        },
        {
          type: 'message',
          role: 'assistant',
          id: 'msg_1',
          status: 'completed',
          content: [{ type: 'output_text', text: 'A cat and a dot.', annotations: [] }],
        },
        { role: 'user', content: [{ type: 'input_text', text: 'Thanks' }] },
      ],
    });
    assert.deepEqual(chat.messages, [
      { role: 'system', content: 'Answer in French.' },
      {
        role: 'system',
        content: [
          { type: 'text', text: 'Rule one.' },
          { type: 'text', text: 'Rule two.' },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these pictures?' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
      { role: 'assistant', content: 'A cat and a dot.' },
      { role: 'user', content: 'Thanks' },
    ]);
  });

  it("takes an image's detail 'original', as chat's image_url takes it", () => {
    const image = {
      type: 'input_image',
      image_url: 'https://example.com/scan.png',
      detail: 'original',
    };
    const chat = chatOf({
      input: [{ role: 'user', content: [image, { type: 'input_text', text: 'Read it.' }] }],
    });
    const content = (chat.messages as JsonObject[])[0]?.content as JsonObject[];
    assert.deepEqual(content[0], {
      type: 'image_url',
      image_url: { url: 'https://example.com/scan.png', detail: 'original' },
    });
  });

  it('joins function calls to the assistant turn before them and turns outputs into tool messages', () => {
    const chat = chatOf({
      input: [
        { role: 'user', content: 'Weather in Paris and Oslo?' },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Both.' }] },
        {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Checking both.' }],
        },
        {
          type: 'function_call',
          id: 'fc_1',
          call_id: 'call_a',
          name: 'get_weather',
          arguments: '{"city":"Paris"}',
        },
        {
          type: 'function_call',
          call_id: 'call_b',
          name: 'get_weather',
          arguments: '{"city":"Oslo"}',
        },
        { type: 'function_call_output', call_id: 'call_a', output: '18C' },
        {
          type: 'function_call_output',
          call_id: 'call_b',
          output: [{ type: 'input_text', text: '-3C' }],
        },
        { type: 'function_call', call_id: 'call_c', name: 'get_time', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_c', output: 'noon' },
      ],
    });
    assert.deepEqual(chat.messages, [
      { role: 'user', content: 'Weather in Paris and Oslo?' },
      {
        role: 'assistant',
        content: 'Checking both.',
        tool_calls: [
          {
            id: 'call_a',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'call_b',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '18C' },
      { role: 'tool', tool_call_id: 'call_b', content: '-3C' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_c', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_c', content: 'noon' },
    ]);
  });

  it("takes a function name past 64 (Claude Code's MCP tools, up to 128) as it is, for the backend to alias", () => {
    const long = `mcp__claude-in-chrome__${'read_the_page_text_'.repeat(5)}`;
    assert.equal(long.length, 118);
    const chat = chatOf({
      input: [
        { role: 'user', content: 'Read it' },
        { type: 'function_call', call_id: 'call_a', name: long, arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_a', output: 'a page' },
      ],
      tools: [{ type: 'function', name: long }],
      tool_choice: {
        type: 'allowed_tools',
        mode: 'required',
        tools: [{ type: 'function', name: long }],
      },
    });
    assert.deepEqual(chat.tools, [{ type: 'function', function: { name: long } }]);
    assert.deepEqual(chat.tool_choice, {
      type: 'allowed_tools',
      allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: long } }] },
    });
    const [, called] = chat.messages as JsonObject[];
    assert.equal((called.tool_calls as { function: JsonObject }[])[0].function.name, long);
  });

  it('translates flat function tools, tool_choice and parallel_tool_calls', () => {
    const chat = chatOf({
      input: 'Weather?',
      tools: [WEATHER_TOOL, { type: 'function', name: 'get_time', parameters: null }],
      tool_choice: { type: 'function', name: 'get_weather' },
      parallel_tool_calls: false,
    });
    assert.deepEqual(chat.tools, [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather for a city',
          parameters: WEATHER_TOOL.parameters,
          strict: true,
        },
      },
      { type: 'function', function: { name: 'get_time' } },
    ]);
    assert.deepEqual(chat.tool_choice, { type: 'function', function: { name: 'get_weather' } });
    assert.equal(chat.parallel_tool_calls, false);

    for (const choice of ['auto', 'none', 'required']) {
      assert.equal(
        chatOf({ input: 'x', tools: [WEATHER_TOOL], tool_choice: choice }).tool_choice,
        choice,
      );
    }
    // Without tools, OpenAI refuses tool_choice and parallel_tool_calls: they are not sent.
    const bare = chatOf({ input: 'x', tool_choice: 'auto', parallel_tool_calls: true });
    assert.equal(bare.tool_choice, undefined);
    assert.equal(bare.parallel_tool_calls, undefined);
  });

  it('maps reasoning.effort to reasoning_effort', () => {
    const chat = chatOf({ input: 'x', reasoning: { effort: 'high', summary: 'auto' } });
    assert.equal(chat.reasoning_effort, 'high');
    assert.equal(
      chatOf({ input: 'x', reasoning: { summary: 'auto' } }).reasoning_effort,
      undefined,
    );
    // An effort no backend knows is the Responses client's own field at fault, not chat's.
    rejects(
      { ...base, input: 'x', reasoning: { effort: 'extreme' } },
      'reasoning.effort',
      /Invalid value for 'reasoning.effort': .*none, minimal, low, medium, high, xhigh, max/,
    );
  });

  it('maps text.format to response_format', () => {
    assert.equal(
      chatOf({ input: 'x', text: { format: { type: 'text' } } }).response_format,
      undefined,
    );
    assert.deepEqual(
      chatOf({ input: 'x', text: { format: { type: 'json_object' } } }).response_format,
      {
        type: 'json_object',
      },
    );
    const schema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };
    assert.deepEqual(
      chatOf({
        input: 'x',
        text: {
          verbosity: 'low',
          format: {
            type: 'json_schema',
            name: 'count',
            schema,
            strict: true,
            description: 'A count',
          },
        },
      }).response_format,
      {
        type: 'json_schema',
        json_schema: { name: 'count', schema, description: 'A count', strict: true },
      },
    );
  });

  it('gives an assistant turn back the signed reasoning that came before it, from encrypted_content', () => {
    const chat = chatOf({
      include: ['reasoning.encrypted_content'],
      input: [
        { role: 'user', content: 'Weather in Paris, then the time there?' },
        {
          type: 'reasoning',
          id: 'rs_1',
          summary: [{ type: 'summary_text', text: SIGNED.thinking }],
          encrypted_content: encodeReasoning([SIGNED]),
        },
        {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Let me check.' }],
        },
        WEATHER_CALL,
        { type: 'function_call_output', call_id: 'call_a', output: '18C' },
        // Reasoning before a turn of calls alone (Codex's usual shape), redacted this time.
        { type: 'reasoning', summary: [], encrypted_content: encodeReasoning([REDACTED]) },
        { type: 'function_call', call_id: 'call_b', name: 'get_time', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_b', output: 'noon' },
        // Reasoning the client kept without its content has nothing to give back.
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'Answer now.' }] },
        { type: 'reasoning', summary: [], encrypted_content: null },
        { role: 'assistant', content: 'It is 18C at noon.' },
      ],
    });
    assert.deepEqual(chat.messages, [
      { role: 'user', content: 'Weather in Paris, then the time there?' },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          {
            id: 'call_a',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
        thinking_blocks: [SIGNED],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '18C' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
        thinking_blocks: [REDACTED],
      },
      { role: 'tool', tool_call_id: 'call_b', content: 'noon' },
      { role: 'assistant', content: 'It is 18C at noon.' },
    ]);
  });

  it('joins consecutive reasoning items on their turn, and drops reasoning no assistant turn follows', () => {
    const chat = chatOf({
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        { type: 'reasoning', summary: [], encrypted_content: encodeReasoning([SIGNED]) },
        { type: 'reasoning', summary: [], encrypted_content: encodeReasoning([REDACTED]) },
        WEATHER_CALL,
        { type: 'function_call_output', call_id: 'call_a', output: '18C' },
        // A turn cut before its answer: the user spoke next.
        { type: 'reasoning', summary: [], encrypted_content: encodeReasoning([SIGNED]) },
        { role: 'user', content: 'Never mind.' },
        { role: 'assistant', content: 'OK.' },
      ],
    });
    const messages = chat.messages as JsonObject[];
    assert.deepEqual(messages[1]?.thinking_blocks, [SIGNED, REDACTED]);
    assert.deepEqual(messages.slice(2), [
      { role: 'tool', tool_call_id: 'call_a', content: '18C' },
      { role: 'user', content: 'Never mind.' },
      { role: 'assistant', content: 'OK.' },
    ]);
  });

  it("gives an assistant turn the text of the reasoning_text parts before it as its reasoning_content (DeepSeek's)", () => {
    const chat = chatOf({
      input: [
        { role: 'user', content: 'Weather in Paris, then the time there?' },
        {
          type: 'reasoning',
          id: 'rs_1',
          summary: [{ type: 'summary_text', text: 'I need the weather tool.' }],
          content: [
            { type: 'reasoning_text', text: 'I need the weather tool.' },
            // Parts of another kind were never read, and still are not.
            { type: 'other', text: 'ignored' },
            { type: 'reasoning_text', text: 7 },
          ],
        },
        { type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Paris.' }] },
        WEATHER_CALL,
        { type: 'function_call_output', call_id: 'call_a', output: '18C' },
        // Reasoning no assistant turn follows goes nowhere.
        { type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Lost.' }] },
        { role: 'user', content: 'And the time?' },
        { type: 'reasoning', summary: [], content: 'not a list' },
        { type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Time.' }] },
        { type: 'function_call', call_id: 'call_b', name: 'get_time', arguments: '{}' },
      ],
    });
    const messages = chat.messages as JsonObject[];
    assert.equal(messages[1]?.reasoning_content, 'I need the weather tool.\n\nParis.');
    assert.equal('thinking_blocks' in (messages[1] ?? {}), false);
    assert.deepEqual(
      messages.map((message) => message.reasoning_content),
      [undefined, 'I need the weather tool.\n\nParis.', undefined, undefined, 'Time.'],
    );
    // Our encrypted_content holds the text already: it comes once, as a block.
    const both = chatOf({
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          type: 'reasoning',
          summary: [],
          content: [{ type: 'reasoning_text', text: SIGNED.thinking }],
          encrypted_content: encodeReasoning([SIGNED]),
        },
        WEATHER_CALL,
      ],
    }).messages as JsonObject[];
    assert.deepEqual(both[1]?.thinking_blocks, [SIGNED]);
    assert.equal('reasoning_content' in (both[1] ?? {}), false);
  });

  it('keeps what the Response object echoes, with the API defaults', () => {
    const body = {
      ...base,
      input: 'x',
      instructions: 'Be brief.',
      tools: [WEATHER_TOOL],
      tool_choice: 'required',
      parallel_tool_calls: false,
      temperature: 0.5,
      top_p: 0.9,
      max_output_tokens: 64,
      text: { format: { type: 'json_object' }, verbosity: 'low' },
      reasoning: { effort: 'low', summary: 'auto' },
      metadata: { team: 'a' },
      user: 'u1',
      include: ['message.output_text.logprobs', 'reasoning.encrypted_content'],
    };
    assert.deepEqual(translateResponsesRequest(body).facts, {
      instructions: 'Be brief.',
      tools: [WEATHER_TOOL],
      toolChoice: 'required',
      parallelToolCalls: false,
      temperature: 0.5,
      topP: 0.9,
      maxOutputTokens: 64,
      text: { format: { type: 'json_object' }, verbosity: 'low' },
      reasoning: { effort: 'low', summary: 'auto' },
      metadata: { team: 'a' },
      user: 'u1',
      encryptedReasoning: true,
    });
    assert.deepEqual(responsesFacts({ ...base, input: 'x' }), {
      instructions: null,
      tools: [],
      toolChoice: 'auto',
      parallelToolCalls: true,
      temperature: null,
      topP: null,
      maxOutputTokens: null,
      text: { format: { type: 'text' } },
      reasoning: { effort: null, summary: null },
      metadata: {},
      user: null,
      encryptedReasoning: false,
    });
  });
});

describe('Responses API request: what is refused, naming the parameter', () => {
  it('refuses a body without a model or an input', () => {
    assert.throws(() => translateResponsesRequest([]), DataPlaneError);
    rejects({ input: 'x' }, 'model', /Missing required parameter: 'model'/);
    rejects({ model: 5, input: 'x' }, 'model', /expected a string/);
    rejects({ ...base }, 'input', /Missing required parameter: 'input'/);
    rejects({ ...base, input: 7 }, 'input', /expected a string or an array/);
    rejects({ ...base, input: [] }, 'input', /at least one item/);
    rejects({ ...base, input: [{ type: 'reasoning', summary: [] }] }, 'input', /holds no message/);
  });

  it('refuses what needs state it does not keep: conversations, prompts, items', () => {
    rejects(
      { ...base, input: 'x', previous_response_id: 'resp_123' },
      'previous_response_id',
      /stateless.*whole conversation in 'input'/,
    );
    rejects(
      { ...base, input: 'x', conversation: 'conv_1' },
      'conversation',
      /response store is off, so it keeps no conversations/,
    );
    rejects({ ...base, input: 'x', prompt: { id: 'pmpt_1' } }, 'prompt', /no prompt templates/);
    rejects({ ...base, input: 'x', background: true }, 'background', /not supported/);
    rejects(
      { ...base, input: [{ type: 'item_reference', id: 'msg_1' }] },
      'input[0].type',
      /Item references are not supported/,
    );
    // Null is the SDKs' way of leaving a field out.
    assert.ok(translateResponsesRequest({ ...base, input: 'x', previous_response_id: null }));
  });

  it('takes previous_response_id when the gateway stores responses, and checks it', () => {
    const stateful = { stateful: true };
    const { chat } = translateResponsesRequest(
      { ...base, input: 'x', previous_response_id: 'resp_1' },
      stateful,
    );
    assert.deepEqual(chat.messages, [{ role: 'user', content: 'x' }]);
    assert.equal(chat.previous_response_id, undefined, 'never sent to a backend');
    const fails = (body: Record<string, unknown>, param: string, message: RegExp) =>
      assert.throws(
        () => translateResponsesRequest({ ...base, input: 'x', ...body }, stateful),
        (error: unknown) =>
          error instanceof DataPlaneError && error.param === param && message.test(error.message),
      );
    fails({ previous_response_id: 7 }, 'previous_response_id', /expected a string/);
    fails({ previous_response_id: '' }, 'previous_response_id', /must not be empty/);
    // Malformed, not unknown: OpenAI's 400, never a lookup and its 404.
    fails(
      { previous_response_id: 'resp_1"; x' },
      'previous_response_id',
      /^Invalid 'previous_response_id': 'resp_1\?\?\?x'\. Expected an ID that contains letters, numbers, underscores, or dashes/,
    );
    fails(
      { previous_response_id: `resp_${'a'.repeat(300)}` },
      'previous_response_id',
      /at most 256 characters/,
    );
    const { chat: inConversation } = translateResponsesRequest(
      { ...base, input: 'x', conversation: { id: 'conv_1' } },
      stateful,
    );
    assert.equal(inConversation.conversation, undefined, 'never sent to a backend');
    fails({ conversation: 7 }, 'conversation', /expected a conversation id or \{id\}/);
    fails(
      { conversation: { id: 'conv_1' }, previous_response_id: 'resp_1' },
      'conversation',
      /Mutually exclusive/,
    );
    fails({ store: 'yes' }, 'store', /expected a boolean/);
  });

  it('refuses items and parts it cannot translate', () => {
    rejects({ ...base, input: ['x'] }, 'input[0]', /expected an object/);
    rejects(
      { ...base, input: [{ type: 'web_search_call', id: 'ws_1' }] },
      'input[0].type',
      /"web_search_call" items are not supported/,
    );
    rejects({ ...base, input: [{ role: 'tool', content: 'x' }] }, 'input[0].role', /'user'/);
    rejects(
      { ...base, input: [{ role: 'user', content: [{ type: 'input_audio', data: 'x' }] }] },
      'input[0].content[0].type',
      /"input_audio" content is not supported/,
    );
    rejects(
      { ...base, input: [{ role: 'system', content: [{ type: 'input_image', image_url: 'u' }] }] },
      'input[0].content[0].type',
      /only accepted in user messages/,
    );
    rejects(
      { ...base, input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] },
      'input[0].content[0].file_id',
      /Images by 'file_id' are not supported: .* chat completions, whose images are a URL or a data URL, not a file id/,
    );
    rejects(
      { ...base, input: [{ role: 'user', content: [{ type: 'input_image' }] }] },
      'input[0].content[0].image_url',
      /Missing required parameter/,
    );
    rejects(
      {
        ...base,
        input: [
          { role: 'user', content: [{ type: 'input_image', image_url: 'u', detail: 'max' }] },
        ],
      },
      'input[0].content[0].detail',
      /'auto', 'low', 'high' or 'original'/,
    );
    rejects(
      {
        ...base,
        input: [{ role: 'assistant', content: [{ type: 'input_image', image_url: 'u' }] }],
      },
      'input[0].content[0].type',
      /not supported in assistant messages/,
    );
    rejects(
      { ...base, input: [{ type: 'function_call', name: 'f', arguments: '{}' }] },
      'input[0].call_id',
      /Missing required parameter/,
    );
    rejects(
      { ...base, input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: {} }] },
      'input[0].arguments',
      /expected a string/,
    );
    rejects(
      { ...base, input: [{ type: 'function_call_output', call_id: 'c' }] },
      'input[0].output',
      /Missing required parameter/,
    );
    rejects(
      {
        ...base,
        input: [
          {
            type: 'function_call_output',
            call_id: 'c',
            output: [{ type: 'input_file', file_id: 'file_1' }],
          },
        ],
      },
      'input[0].output[0].type',
      /only 'input_text' and 'input_image'/,
    );
  });

  it('sends the images a function returned (Codex view_image) as user content after the tool outputs', () => {
    const image = 'data:image/png;base64,iVBORw0KGgo=';
    const chat = chatOf({
      input: [
        { role: 'user', content: 'Look at both screenshots.' },
        { type: 'function_call', call_id: 'call_a', name: 'view_image', arguments: '{}' },
        { type: 'function_call', call_id: 'call_b', name: 'view_image', arguments: '{}' },
        {
          type: 'function_call_output',
          call_id: 'call_a',
          output: [
            { type: 'input_text', text: 'first' },
            { type: 'input_image', image_url: image, detail: 'high' },
          ],
        },
        {
          type: 'function_call_output',
          call_id: 'call_b',
          output: [{ type: 'input_image', image_url: 'https://example.com/b.png' }],
        },
        { role: 'user', content: 'What changed?' },
      ],
    });
    assert.deepEqual((chat.messages as JsonObject[]).slice(2), [
      // Tool messages carry text only, and stay right after the calls they answer.
      { role: 'tool', tool_call_id: 'call_a', content: 'first' },
      { role: 'tool', tool_call_id: 'call_b', content: '' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: image, detail: 'high' } },
          { type: 'image_url', image_url: { url: 'https://example.com/b.png' } },
        ],
      },
      { role: 'user', content: 'What changed?' },
    ]);
    // A custom tool's output in the same run: the images still wait for the run's end.
    const mixed = chatOf({
      input: [
        { type: 'function_call', call_id: 'a', name: 'view_image', arguments: '{}' },
        { type: 'custom_tool_call', call_id: 'b', name: 'apply_patch', input: 'patch' },
        {
          type: 'function_call_output',
          call_id: 'a',
          output: [{ type: 'input_image', image_url: image }],
        },
        { type: 'custom_tool_call_output', call_id: 'b', output: 'Done!' },
      ],
    });
    assert.deepEqual(
      (mixed.messages as JsonObject[]).slice(1).map((m) => m.role),
      ['tool', 'tool', 'user'],
    );
    // At the end of the input too.
    const last = chatOf({
      input: [
        { type: 'function_call', call_id: 'c', name: 'view_image', arguments: '{}' },
        {
          type: 'function_call_output',
          call_id: 'c',
          output: [{ type: 'input_image', image_url: image }],
        },
      ],
    });
    assert.deepEqual((last.messages as JsonObject[]).at(-1), {
      role: 'user',
      content: [{ type: 'image_url', image_url: { url: image } }],
    });
  });

  it('refuses built-in tools and malformed function tools', () => {
    rejects(
      { ...base, input: 'x', tools: [WEATHER_TOOL, { type: 'web_search' }] },
      'tools[1].type',
      /"web_search" tools are not supported.*built-in/,
    );
    rejects({ ...base, input: 'x', tools: {} }, 'tools', /expected an array/);
    rejects(
      { ...base, input: 'x', tools: [{ type: 'function' }] },
      'tools[0].name',
      /Missing required parameter/,
    );
    rejects(
      { ...base, input: 'x', tools: [{ type: 'function', name: 'get weather' }] },
      'tools[0].name',
      /letters, digits/,
    );
    const tooLong = `mcp__docs__${'x'.repeat(118)}`;
    rejects(
      { ...base, input: 'x', tools: [{ type: 'function', name: tooLong }] },
      'tools[0].name',
      new RegExp(`tool name '${tooLong}' has 129 characters; function names may have at most 128`),
    );
    const longCustom = `apply_patch_${'x'.repeat(53)}`;
    rejects(
      { ...base, input: 'x', tools: [{ type: 'custom', name: longCustom }] },
      'tools[0].name',
      new RegExp(`tool name '${longCustom}' has 65 characters; custom tool names .* at most 64`),
    );
    rejects(
      { ...base, input: 'x', tools: [{ type: 'function', name: 'f', parameters: 'x' }] },
      'tools[0].parameters',
      /JSON Schema object/,
    );
    rejects(
      { ...base, input: 'x', tools: [{ type: 'function', name: 'f', strict: 'yes' }] },
      'tools[0].strict',
      /expected a boolean/,
    );
  });

  it('refuses a tool_choice it cannot honour', () => {
    rejects({ ...base, input: 'x', tool_choice: 'required' }, 'tool_choice', /at least one tool/);
    rejects(
      { ...base, input: 'x', tools: [WEATHER_TOOL], tool_choice: 'any' },
      'tool_choice',
      /'auto'/,
    );
    rejects(
      { ...base, input: 'x', tools: [WEATHER_TOOL], tool_choice: { type: 'web_search_preview' } },
      'tool_choice.type',
      /not supported/,
    );
    rejects(
      {
        ...base,
        input: 'x',
        tools: [WEATHER_TOOL],
        tool_choice: { type: 'function', name: 'nope' },
      },
      'tool_choice.name',
      /no function named 'nope'/,
    );
    rejects(
      { ...base, input: 'x', tools: [WEATHER_TOOL], parallel_tool_calls: 'no' },
      'parallel_tool_calls',
      /expected a boolean/,
    );
  });

  it("translates custom tools (Codex's apply_patch) and their calls and outputs to chat's custom tools", () => {
    const applyPatch = {
      type: 'custom',
      name: 'apply_patch',
      description: 'Edit files with a patch',
      format: { type: 'grammar', syntax: 'lark', definition: 'start: "*** Begin Patch"' },
    };
    const chat = chatOf({
      tools: [
        WEATHER_TOOL,
        applyPatch,
        { type: 'custom', name: 'shell', format: { type: 'text' } },
      ],
      tool_choice: { type: 'custom', name: 'apply_patch' },
      input: [
        { role: 'user', content: 'Fix the typo' },
        // As a stored or earlier Response gave it back: with its id and status.
        {
          type: 'custom_tool_call',
          id: 'ctc_1',
          status: 'completed',
          call_id: 'call_patch',
          name: 'apply_patch',
          input: '*** Begin Patch\n*** End Patch',
        },
        { type: 'custom_tool_call_output', call_id: 'call_patch', output: 'Done!' },
      ],
    });
    assert.deepEqual(chat.tools, [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: WEATHER_TOOL.description,
          parameters: WEATHER_TOOL.parameters,
          strict: true,
        },
      },
      {
        type: 'custom',
        custom: {
          name: 'apply_patch',
          description: 'Edit files with a patch',
          format: {
            type: 'grammar',
            grammar: { definition: 'start: "*** Begin Patch"', syntax: 'lark' },
          },
        },
      },
      { type: 'custom', custom: { name: 'shell', format: { type: 'text' } } },
    ]);
    assert.deepEqual(chat.tool_choice, { type: 'custom', custom: { name: 'apply_patch' } });
    assert.deepEqual(chat.messages, [
      { role: 'user', content: 'Fix the typo' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_patch',
            type: 'custom',
            custom: { name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_patch', content: 'Done!' },
    ]);
  });

  it("translates tool_choice allowed_tools to chat's, each tool in chat's shape", () => {
    const chat = chatOf({
      input: 'x',
      tools: [WEATHER_TOOL, { type: 'custom', name: 'apply_patch' }],
      tool_choice: {
        type: 'allowed_tools',
        mode: 'required',
        tools: [
          { type: 'function', name: 'get_weather' },
          { type: 'custom', name: 'apply_patch' },
        ],
      },
    });
    assert.deepEqual(chat.tool_choice, {
      type: 'allowed_tools',
      allowed_tools: {
        mode: 'required',
        tools: [
          { type: 'function', function: { name: 'get_weather' } },
          { type: 'custom', custom: { name: 'apply_patch' } },
        ],
      },
    });
  });

  it('refuses malformed custom tools, custom tool calls and allowed_tools, naming the field', () => {
    const tools = [WEATHER_TOOL, { type: 'custom', name: 'apply_patch' }];
    rejects(
      { ...base, input: 'x', tools: [{ type: 'custom', name: 'p', format: { type: 'json' } }] },
      'tools[0].format.type',
      /'text' or 'grammar'/,
    );
    rejects(
      {
        ...base,
        input: 'x',
        tools: [{ type: 'custom', name: 'p', format: { type: 'grammar', syntax: 'ebnf' } }],
      },
      'tools[0].format.syntax',
      /'lark' or 'regex'/,
    );
    rejects(
      { ...base, input: 'x', tools, tool_choice: { type: 'custom', name: 'get_weather' } },
      'tool_choice.name',
      /no custom tool named 'get_weather'/,
    );
    rejects(
      { ...base, input: 'x', tools, tool_choice: { type: 'allowed_tools', mode: 'any', tools } },
      'tool_choice.mode',
      /'auto' or 'required'/,
    );
    rejects(
      {
        ...base,
        input: 'x',
        tools,
        tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [] },
      },
      'tool_choice.tools',
      /at least one tool/,
    );
    rejects(
      {
        ...base,
        input: 'x',
        tools,
        tool_choice: {
          type: 'allowed_tools',
          mode: 'auto',
          tools: [{ type: 'function', name: 'apply_patch' }],
        },
      },
      'tool_choice.tools[0].name',
      /no function named 'apply_patch'/,
    );
    rejects(
      {
        ...base,
        input: [{ type: 'custom_tool_call', call_id: 'c', name: 'apply_patch' }],
      },
      'input[0].input',
      /Missing required parameter/,
    );
  });

  it("translates input_file parts (a file's data or id) to chat's file parts, in user messages", () => {
    const pdf = 'data:application/pdf;base64,JVBERi0xLjQK';
    const chat = chatOf({
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Summarize both' },
            { type: 'input_file', filename: 'a.pdf', file_data: pdf },
            { type: 'input_file', file_id: 'file-abc' },
          ],
        },
      ],
    });
    assert.deepEqual(chat.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Summarize both' },
          { type: 'file', file: { file_data: pdf, filename: 'a.pdf' } },
          { type: 'file', file: { file_id: 'file-abc' } },
        ],
      },
    ]);
    const user = (part: JsonObject) => ({ ...base, input: [{ role: 'user', content: [part] }] });
    rejects(
      user({ type: 'input_file', file_url: 'https://example.com/a.pdf' }),
      'input[0].content[0].file_url',
      /File URLs are not supported/,
    );
    rejects(user({ type: 'input_file', filename: 'a.pdf' }), 'input[0].content[0]', /exactly one/);
    rejects(
      user({ type: 'input_file', file_id: 'file-abc', file_data: pdf }),
      'input[0].content[0]',
      /exactly one/,
    );
    rejects(
      { ...base, input: [{ role: 'system', content: [{ type: 'input_file', file_id: 'f' }] }] },
      'input[0].content[0].type',
      /files are only accepted in user messages/,
    );
  });

  it('refuses encrypted_content this gateway did not write, naming the item', () => {
    const bad: [what: string, value: unknown, message: RegExp][] = [
      [
        'OpenAI’s own',
        'gAAAAABoZ3xkYWJjZGVmZ2hpamtsbW5vcA==',
        /not reasoning this gateway returned/,
      ],
      ['bad base64url', `${ENCRYPTED_REASONING_PREFIX}not*base64`, /not reasoning this gateway/],
      [
        'not blocks',
        `${ENCRYPTED_REASONING_PREFIX}${Buffer.from('{"thinking":"x"}').toString('base64url')}`,
        /not reasoning this gateway returned/,
      ],
      ['not a string', 42, /expected a string/],
    ];
    for (const [, value, message] of bad) {
      rejects(
        {
          ...base,
          input: [
            { role: 'user', content: 'Weather in Paris?' },
            { type: 'reasoning', summary: [], encrypted_content: value },
            WEATHER_CALL,
          ],
        },
        'input[1].encrypted_content',
        message,
      );
    }
  });

  it('refuses malformed settings', () => {
    rejects({ ...base, input: 'x', instructions: ['a'] }, 'instructions', /expected a string/);
    rejects({ ...base, input: 'x', stream: 'true' }, 'stream', /expected a boolean/);
    rejects({ ...base, input: 'x', store: 'yes' }, 'store', /expected a boolean/);
    rejects({ ...base, input: 'x', metadata: 'a' }, 'metadata', /expected an object/);
    // As OpenAI limits it: 16 string pairs, keys up to 64 characters, values up to 512.
    rejects({ ...base, input: 'x', metadata: { team: 7 } }, 'metadata.team', /strings/);
    rejects({ ...base, input: 'x', metadata: { team: { a: 1 } } }, 'metadata.team', /strings/);
    const seventeen = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    rejects({ ...base, input: 'x', metadata: seventeen }, 'metadata', /at most 16/);
    rejects({ ...base, input: 'x', metadata: { a: 'v'.repeat(513) } }, 'metadata.a', /512/);
    rejects({ ...base, input: 'x', max_output_tokens: 1.5 }, 'max_output_tokens', /whole number/);
    rejects({ ...base, input: 'x', max_output_tokens: 0 }, 'max_output_tokens', /at least 1/);
    rejects({ ...base, input: 'x', temperature: '1' }, 'temperature', /expected a number/);
    rejects({ ...base, input: 'x', top_p: '1' }, 'top_p', /expected a number/);
    rejects({ ...base, input: 'x', user: 1 }, 'user', /expected a string/);
    rejects({ ...base, input: 'x', include: 'reasoning' }, 'include', /an array of strings/);
    rejects({ ...base, input: 'x', include: [7] }, 'include[0]', /expected a string/);
    rejects(
      { ...base, input: 'x', include: ['reasoning.encrypted_content', 'reasoning.summary'] },
      'include[1]',
      /"reasoning.summary" is not a supported value.*reasoning.encrypted_content/,
    );
    // Every value OpenAI documents is taken, those with nothing to show here included.
    const documented = [
      'code_interpreter_call.outputs',
      'computer_call_output.output.image_url',
      'file_search_call.results',
      'message.input_image.image_url',
      'message.output_text.logprobs',
      'reasoning.encrypted_content',
      'web_search_call.action.sources',
      'web_search_call.results',
    ];
    assert.doesNotThrow(() => chatOf({ input: 'x', include: documented }));
    rejects({ ...base, input: 'x', reasoning: 'high' }, 'reasoning', /expected an object/);
    rejects(
      { ...base, input: 'x', reasoning: { effort: 3 } },
      'reasoning.effort',
      /expected a string/,
    );
    rejects({ ...base, input: 'x', text: 'json' }, 'text', /expected an object/);
    rejects(
      { ...base, input: 'x', text: { format: { type: 'xml' } } },
      'text.format.type',
      /'text', 'json_object' or 'json_schema'/,
    );
    rejects(
      { ...base, input: 'x', text: { format: { type: 'json_schema', schema: {} } } },
      'text.format.name',
      /Missing required parameter/,
    );
    rejects(
      { ...base, input: 'x', text: { format: { type: 'json_schema', name: 'n' } } },
      'text.format.schema',
      /Missing required parameter/,
    );
  });
});

describe('translateResponsesRequest: a body nested too deep', () => {
  it('refuses a field nested past the limit with a 400, even one the translation drops', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    const body = {
      model: 'gpt-4o',
      input: [{ role: 'user', content: 'hi', extra: deep }],
    };
    assert.throws(
      () => translateResponsesRequest(body),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        /nests arrays or objects deeper than 64 levels/.test(error.message),
    );
  });
});
