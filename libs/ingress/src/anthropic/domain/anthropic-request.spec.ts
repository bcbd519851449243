import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { translateMessagesRequest } from './anthropic-request';

const base = { model: 'claude-sonnet-4', max_tokens: 256 };

function rejects(body: unknown, field: string, message: RegExp): void {
  assert.throws(
    () => translateMessagesRequest(body),
    (error: unknown) =>
      error instanceof DataPlaneError &&
      error.code === DataPlaneErrorCode.InvalidRequest &&
      error.param === field &&
      message.test(error.message) &&
      error.message.startsWith(`${field}: `),
  );
}

describe('Anthropic Messages request to OpenAI chat', () => {
  it('translates a plain text turn with sampling options and the user id', () => {
    const { chat, facts } = translateMessagesRequest({
      ...base,
      messages: [{ role: 'user', content: 'Hello' }],
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['END', '###'],
      metadata: { user_id: 'user-42' },
    });
    assert.deepEqual(chat, {
      model: 'claude-sonnet-4',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 256,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['END', '###'],
      user: 'user-42',
      // For the backends that take it (Claude, Gemini); OpenAI-format ones never get it.
      provider_extras: { top_k: 40 },
    });
    assert.deepEqual(facts, {
      model: 'claude-sonnet-4',
      stream: false,
      stopSequences: ['END', '###'],
    });
  });

  it("carries service_tier in OpenAI's terms, and refuses a tier Anthropic has not", () => {
    const messages = [{ role: 'user', content: 'hi' }];
    const tierOf = (service_tier: unknown) =>
      translateMessagesRequest({ ...base, messages, service_tier }).chat.service_tier;
    assert.equal(tierOf('standard_only'), 'default');
    assert.equal(tierOf('auto'), 'auto');
    assert.equal(tierOf(null), undefined);
    rejects({ ...base, messages, service_tier: 'priority' }, 'service_tier', /'auto' or/);
  });

  it('top_k must be a whole number of at least 0; top_k 0 is carried, null is none', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    rejects({ ...base, messages, top_k: 'five' }, 'top_k', /valid number/);
    rejects({ ...base, messages, top_k: 2.5 }, 'top_k', /valid integer/);
    rejects({ ...base, messages, top_k: -1 }, 'top_k', /greater than or equal to 0/);
    const zero = translateMessagesRequest({ ...base, messages, top_k: 0 }).chat;
    assert.deepEqual(zero.provider_extras, { top_k: 0 });
    const none = translateMessagesRequest({ ...base, messages, top_k: null }).chat;
    assert.equal('provider_extras' in none, false);
  });

  it('puts a system string or system text blocks first, and passes stream on', () => {
    const fromString = translateMessagesRequest({
      ...base,
      stream: true,
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.deepEqual(fromString.chat.messages, [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'hi' },
    ]);
    assert.equal(fromString.chat.stream, true);
    assert.equal(fromString.facts.stream, true);

    const fromBlocks = translateMessagesRequest({
      ...base,
      system: [
        { type: 'text', text: 'Rule one.' },
        { type: 'text', text: 'Rule two.' },
      ],
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.deepEqual(fromBlocks.chat.messages, [
      { role: 'system', content: 'Rule one.\n\nRule two.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('keeps each prompt-caching breakpoint on the part it marked', () => {
    const ephemeral = { type: 'ephemeral' };
    const { chat } = translateMessagesRequest({
      ...base,
      system: [
        { type: 'text', text: 'Rule one.', cache_control: ephemeral },
        { type: 'text', text: 'Today is Thursday.' },
      ],
      tools: [
        {
          name: 'lookup',
          input_schema: { type: 'object' },
          cache_control: { type: 'ephemeral', ttl: '1h' },
        },
      ],
      messages: [
        {
          role: 'user',
          content: [{ type: 'text', text: 'A long document.', cache_control: ephemeral }],
        },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} }],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: 'found',
              cache_control: ephemeral,
            },
          ],
        },
      ],
    });
    const messages = chat.messages as JsonObject[];
    // Marked system blocks stay blocks, so the breakpoint stays before what varies.
    assert.deepEqual(messages[0], {
      role: 'system',
      content: [
        { type: 'text', text: 'Rule one.', cache_control: ephemeral },
        { type: 'text', text: 'Today is Thursday.' },
      ],
    });
    // A lone marked text block stays a part, which can carry the mark.
    assert.deepEqual(messages[1].content, [
      { type: 'text', text: 'A long document.', cache_control: ephemeral },
    ]);
    assert.deepEqual(messages[3], {
      role: 'tool',
      tool_call_id: 'toolu_1',
      content: [{ type: 'text', text: 'found', cache_control: ephemeral }],
    });
    assert.deepEqual((chat.tools as JsonObject[])[0].cache_control, {
      type: 'ephemeral',
      ttl: '1h',
    });
  });

  it("sends a tool result's PDF on after its tool message, as its images go (a file read by an agent)", () => {
    const pdf = { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' };
    const { chat } = translateMessagesRequest({
      ...base,
      messages: [
        { role: 'user', content: 'Read it' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'read', input: {} }],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [
                { type: 'text', text: 'PDF attached' },
                { type: 'document', title: 'a.pdf', source: pdf },
              ],
            },
          ],
        },
      ],
    });
    assert.deepEqual((chat.messages as JsonObject[]).slice(2), [
      { role: 'tool', tool_call_id: 'toolu_1', content: 'PDF attached' },
      {
        role: 'user',
        content: [
          {
            type: 'file',
            file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' },
          },
        ],
      },
    ]);
  });

  it("keeps Claude Code's marks on a tool_use block and on a block inside a tool_result", () => {
    const ephemeral = { type: 'ephemeral' };
    const { chat } = translateMessagesRequest({
      ...base,
      messages: [
        { role: 'user', content: 'List the files' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_1', name: 'ls', input: {}, cache_control: ephemeral },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [{ type: 'text', text: 'a.txt', cache_control: ephemeral }],
            },
          ],
        },
      ],
    });
    const [, assistant, tool] = chat.messages as JsonObject[];
    assert.deepEqual(assistant.tool_calls, [
      {
        id: 'toolu_1',
        type: 'function',
        function: { name: 'ls', arguments: '{}' },
        cache_control: ephemeral,
      },
    ]);
    assert.deepEqual(tool, {
      role: 'tool',
      tool_call_id: 'toolu_1',
      content: [{ type: 'text', text: 'a.txt', cache_control: ephemeral }],
    });
  });

  it('carries a PDF by URL as a file_url part for the backend to fetch, refusing a non-http one', () => {
    const url = 'https://example.com/paper.pdf';
    const { chat } = translateMessagesRequest({
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'document', title: 'paper', source: { type: 'url', url } },
            { type: 'text', text: 'Summarise it' },
          ],
        },
      ],
    });
    assert.deepEqual((chat.messages as JsonObject[])[0].content, [
      { type: 'file', file: { file_url: url, filename: 'paper' } },
      { type: 'text', text: 'Summarise it' },
    ]);
    assert.throws(
      () =>
        translateMessagesRequest({
          ...base,
          messages: [
            {
              role: 'user',
              content: [{ type: 'document', source: { type: 'url', url: 'file:///etc/passwd' } }],
            },
          ],
        }),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.param === 'messages.0.content.0.source.url' &&
        /http\(s\) URL/.test(error.message),
    );
  });

  it('refuses a cache_control that is not a caching breakpoint, naming it', () => {
    assert.throws(
      () =>
        translateMessagesRequest({
          ...base,
          messages: [
            {
              role: 'user',
              content: [{ type: 'text', text: 'hi', cache_control: { type: 'always' } }],
            },
          ],
        }),
      (error: unknown) =>
        error instanceof DataPlaneError && error.param === 'messages.0.content.0.cache_control',
    );
  });

  it('keeps a multi-turn conversation in order, text blocks joined for the assistant', () => {
    const { chat } = translateMessagesRequest({
      ...base,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'What is 2+2?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'It is ' },
            { type: 'text', text: '4.' },
          ],
        },
        { role: 'user', content: 'And 3+3?' },
      ],
    });
    assert.deepEqual(chat.messages, [
      { role: 'user', content: 'What is 2+2?' },
      { role: 'assistant', content: 'It is 4.' },
      { role: 'user', content: 'And 3+3?' },
    ]);
  });

  it("keeps a caching breakpoint on an assistant turn's text, as parts", () => {
    const ephemeral = { type: 'ephemeral' };
    const { chat } = translateMessagesRequest({
      ...base,
      messages: [
        { role: 'user', content: 'Summarise the file.' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'The file says ' },
            { type: 'text', text: 'hello.', cache_control: ephemeral },
          ],
        },
        { role: 'user', content: 'Shorter?' },
      ],
    });
    assert.deepEqual((chat.messages as JsonObject[])[1], {
      role: 'assistant',
      content: [
        { type: 'text', text: 'The file says ' },
        { type: 'text', text: 'hello.', cache_control: ephemeral },
      ],
    });
  });

  it('passes the thinking parameter on as the canonical thinking field', () => {
    const messages = [{ role: 'user', content: 'Plan the trip.' }];
    const enabled = translateMessagesRequest({
      ...base,
      max_tokens: 16000,
      thinking: { type: 'enabled', budget_tokens: 10000 },
      messages,
    });
    assert.deepEqual(enabled.chat.thinking, { type: 'enabled', budget_tokens: 10000 });
    assert.equal(enabled.chat.max_tokens, 16000);
    const disabled = translateMessagesRequest({
      ...base,
      thinking: { type: 'disabled' },
      messages,
    });
    assert.deepEqual(disabled.chat.thinking, { type: 'disabled' });
    assert.equal(translateMessagesRequest({ ...base, messages }).chat.thinking, undefined);
    // Token counting takes thinking without max_tokens.
    const counted = translateMessagesRequest(
      { model: 'm', thinking: { type: 'enabled', budget_tokens: 2048 }, messages },
      { requireMaxTokens: false },
    );
    assert.deepEqual(counted.chat.thinking, { type: 'enabled', budget_tokens: 2048 });
  });

  it('refuses a malformed thinking parameter, naming the part at fault', () => {
    const messages = [{ role: 'user', content: 'x' }];
    const withThinking = (thinking: unknown) => ({ ...base, max_tokens: 8000, messages, thinking });
    rejects(withThinking('on'), 'thinking', /valid dictionary/);
    rejects(withThinking({ type: 'auto' }), 'thinking.type', /'enabled', 'adaptive' or 'disabled'/);
    rejects(withThinking({ type: 'adaptive', display: 'full' }), 'thinking.display', /summarized/);
    rejects(
      withThinking({ type: 'enabled', budget_tokens: 2048, display: 'full' }),
      'thinking.display',
      /summarized/,
    );
    rejects({ ...base, messages, output_config: 'high' }, 'output_config', /valid dictionary/);
    rejects(
      { ...base, messages, output_config: { effort: 'extreme' } },
      'output_config.effort',
      /'low', 'medium', 'high', 'xhigh' or 'max'/,
    );
    rejects(withThinking({ type: 'enabled' }), 'thinking.budget_tokens', /Field required/);
    rejects(
      withThinking({ type: 'enabled', budget_tokens: 1023 }),
      'thinking.budget_tokens',
      /greater than or equal to 1024/,
    );
    rejects(
      withThinking({ type: 'enabled', budget_tokens: 2048.5 }),
      'thinking.budget_tokens',
      /integer/,
    );
    rejects(
      withThinking({ type: 'enabled', budget_tokens: '2048' }),
      'thinking.budget_tokens',
      /integer/,
    );
  });

  it("keeps a strict tool's strict at the tool's top level, apart from OpenAI's function.strict", () => {
    const messages = [{ role: 'user', content: 'x' }];
    const input_schema = { type: 'object', properties: {}, additionalProperties: false };
    const { chat } = translateMessagesRequest({
      ...base,
      tools: [
        { name: 'a', input_schema, strict: true },
        { name: 'b', input_schema, strict: false },
      ],
      messages,
    });
    assert.deepEqual(chat.tools, [
      { type: 'function', function: { name: 'a', parameters: input_schema }, strict: true },
      { type: 'function', function: { name: 'b', parameters: input_schema } },
    ]);
    rejects(
      { ...base, tools: [{ name: 'a', input_schema, strict: 'yes' }], messages },
      'tools.0.strict',
      /valid boolean/,
    );
  });

  it('carries context_management (context editing) for Anthropic backends to apply', () => {
    const messages = [{ role: 'user', content: 'x' }];
    const contextManagement = { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] };
    const { chat } = translateMessagesRequest({
      ...base,
      context_management: contextManagement,
      messages,
    });
    assert.deepEqual(chat.provider_extras, { context_management: contextManagement });
    rejects({ ...base, context_management: [], messages }, 'context_management', /dictionary/);
  });

  it('carries inference_geo (data residency) for the backends that keep it, never dropped', () => {
    const messages = [{ role: 'user', content: 'x' }];
    const { chat } = translateMessagesRequest({ ...base, inference_geo: 'us', top_k: 5, messages });
    assert.deepEqual(chat.provider_extras, { top_k: 5, inference_geo: 'us' });
    rejects({ ...base, inference_geo: 1, messages }, 'inference_geo', /valid string/);
    rejects({ ...base, inference_geo: '', messages }, 'inference_geo', /at least 1 character/);
  });

  it("takes Claude 4.6's adaptive thinking, its effort and a task budget", () => {
    const taskBudget = { type: 'tokens', total: 64000 };
    const { chat } = translateMessagesRequest({
      ...base,
      max_tokens: 2000,
      thinking: { type: 'adaptive', display: 'summarized' },
      output_config: { effort: 'high', task_budget: taskBudget },
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.deepEqual(chat.thinking, { type: 'adaptive', display: 'summarized' });
    // The task budget rides as sent, for Anthropic to apply (its beta in anthropic-beta).
    assert.deepEqual(chat.output_config, { effort: 'high', task_budget: taskBudget });
    rejects(
      { ...base, output_config: { task_budget: 5 }, messages: [{ role: 'user', content: 'x' }] },
      'output_config.task_budget',
      /dictionary/,
    );
    // An effort alone (it steers the answer's length too) goes as well.
    const effortOnly = translateMessagesRequest({
      ...base,
      output_config: { effort: 'low' },
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(effortOnly.chat.thinking, undefined);
    assert.deepEqual(effortOnly.chat.output_config, { effort: 'low' });
  });

  it('takes structured outputs (output_config.format, or the older output_format) as response_format and as sent', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const expected = {
      type: 'json_schema',
      json_schema: { name: 'output', schema, strict: true },
    };
    const messages = [{ role: 'user', content: 'x' }];
    const format = { type: 'json_schema', schema };
    const current = translateMessagesRequest({
      ...base,
      output_config: { effort: 'low', format },
      messages,
    });
    assert.deepEqual(current.chat.response_format, expected);
    // Beside it, the client's own format, for a Claude that answers in it natively.
    assert.deepEqual(current.chat.output_config, { effort: 'low', format });
    const older = translateMessagesRequest({ ...base, output_format: format, messages });
    assert.deepEqual(older.chat.response_format, expected);
    assert.deepEqual(older.chat.output_config, { format });
    rejects(
      { ...base, output_config: { format: { type: 'json' } }, messages },
      'output_config.format.type',
      /'json_schema'/,
    );
    rejects(
      { ...base, output_format: { type: 'json_schema' }, messages },
      'output_format.schema',
      /dictionary/,
    );
  });

  it('refuses mcp_servers and container by name rather than dropping them', () => {
    const messages = [{ role: 'user', content: 'x' }];
    rejects({ ...base, mcp_servers: [], messages }, 'mcp_servers', /not available/);
    rejects({ ...base, container: 'c_1', messages }, 'container', /not available/);
  });

  it('refuses max_tokens that leave no room past the thinking budget', () => {
    const messages = [{ role: 'user', content: 'x' }];
    const thinking = { type: 'enabled', budget_tokens: 2048 };
    rejects(
      { ...base, max_tokens: 2048, thinking, messages },
      'max_tokens',
      /thinking\.budget_tokens/,
    );
    rejects({ ...base, max_tokens: 1024, thinking, messages }, 'max_tokens', /greater than/);
    assert.equal(
      translateMessagesRequest({ ...base, max_tokens: 2049, thinking, messages }).chat.max_tokens,
      2049,
    );
  });

  it('takes a budget past max_tokens with interleaved thinking, where it spans the whole turn', () => {
    const messages = [{ role: 'user', content: 'x' }];
    const thinking = { type: 'enabled', budget_tokens: 8192 };
    const { chat } = translateMessagesRequest(
      { ...base, max_tokens: 4096, thinking, messages },
      { interleavedThinking: true },
    );
    assert.deepEqual([chat.max_tokens, chat.thinking], [4096, thinking]);
  });

  it("keeps an assistant turn's thinking and redacted_thinking blocks, in order, as thinking_blocks", () => {
    const { chat } = translateMessagesRequest({
      ...base,
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'I should call the tool.', signature: 'EqQBCgIYAhIM1' },
            { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
            { type: 'thinking', thinking: 'Then answer briefly.', signature: '' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' }],
        },
      ],
    });
    assert.deepEqual((chat.messages as JsonObject[])[1], {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: 'toolu_1',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
        },
      ],
      thinking_blocks: [
        { type: 'thinking', thinking: 'I should call the tool.', signature: 'EqQBCgIYAhIM1' },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
        // An unsigned block (another backend's reasoning, as this gateway answered it) stays.
        { type: 'thinking', thinking: 'Then answer briefly.', signature: '' },
      ],
    });
  });

  it('refuses a thinking block without its signature or a redacted one without data', () => {
    const turn = (block: JsonObject) => ({
      ...base,
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: [block, { type: 'text', text: 'y' }] },
        { role: 'user', content: 'z' },
      ],
    });
    rejects(
      turn({ type: 'thinking', thinking: 'hmm' }),
      'messages.1.content.0.signature',
      /Field required/,
    );
    rejects(
      turn({ type: 'thinking', thinking: 'hmm', signature: 7 }),
      'messages.1.content.0.signature',
      /valid string/,
    );
    rejects(
      turn({ type: 'thinking', signature: 'sig' }),
      'messages.1.content.0.thinking',
      /Field required/,
    );
    rejects(turn({ type: 'redacted_thinking' }), 'messages.1.content.0.data', /Field required/);
    rejects(
      turn({ type: 'redacted_thinking', data: '' }),
      'messages.1.content.0.data',
      /at least 1 character/,
    );
  });

  it("takes tool names up to Anthropic's 128 characters (Claude Code's MCP tools)", () => {
    const name = `mcp__plugin_marketplace_server__${'long_tool_name_'.repeat(6)}`;
    assert.ok(name.length > 64 && name.length <= 128);
    const { chat } = translateMessagesRequest({
      model: 'claude',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name, input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name },
    });
    assert.equal(((chat.tools as JsonObject[])[0].function as JsonObject).name, name);
    assert.deepEqual(chat.tool_choice, { type: 'function', function: { name } });
  });

  it('turns base64 and URL images into image_url parts beside the text', () => {
    const { chat } = translateMessagesRequest({
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'image',
              source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
            },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            { type: 'text', text: 'What are these?' },
          ],
        },
      ],
    });
    assert.deepEqual(chat.messages, [
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          { type: 'text', text: 'What are these?' },
        ],
      },
    ]);
  });

  it('translates tools, tool_use and tool_result into function tools, tool_calls and tool messages', () => {
    const { chat } = translateMessagesRequest({
      ...base,
      tools: [
        {
          name: 'get_weather',
          description: 'Weather for a city',
          input_schema: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
          },
        },
      ],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              is_error: true,
              content: [
                { type: 'text', text: 'service down' },
                { type: 'image', source: { type: 'url', url: 'https://example.com/err.png' } },
              ],
            },
            { type: 'text', text: 'Summarize.' },
          ],
        },
      ],
    });
    assert.deepEqual(chat.tools, [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
          },
          description: 'Weather for a city',
        },
      },
    ]);
    assert.equal(chat.tool_choice, 'auto');
    assert.equal(chat.parallel_tool_calls, false);
    assert.deepEqual(chat.messages, [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          {
            id: 'toolu_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'toolu_2',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
      // The flag travels as the gateway's extension; an OpenAI-format backend gets it as
      // an "Error: " prefix (openai-extensions), Anthropic and Bedrock as their own flag.
      { role: 'tool', tool_call_id: 'toolu_2', content: 'service down', is_error: true },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'https://example.com/err.png' } },
          { type: 'text', text: 'Summarize.' },
        ],
      },
    ]);
  });

  it('gives an assistant turn of only tool calls null content, and a user turn of only results no user message', () => {
    const { chat } = translateMessagesRequest({
      ...base,
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1' }] },
      ],
    });
    assert.deepEqual((chat.messages as unknown[]).slice(1), [
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 't1', content: '' },
    ]);
  });

  it('maps every tool_choice', () => {
    const tools = [{ name: 'lookup', input_schema: { type: 'object' } }];
    const messages = [{ role: 'user', content: 'x' }];
    const choice = (tool_choice: unknown) =>
      translateMessagesRequest({ ...base, tools, messages, tool_choice }).chat.tool_choice;
    assert.equal(choice({ type: 'auto' }), 'auto');
    assert.equal(choice({ type: 'any' }), 'required');
    assert.equal(choice({ type: 'none' }), 'none');
    assert.deepEqual(choice({ type: 'tool', name: 'lookup' }), {
      type: 'function',
      function: { name: 'lookup' },
    });
  });

  it('accepts a missing max_tokens only when told to (token counting)', () => {
    const { chat } = translateMessagesRequest(
      { model: 'm', messages: [{ role: 'user', content: 'x' }] },
      { requireMaxTokens: false },
    );
    assert.equal(chat.max_tokens, undefined);
  });

  it('names the field at fault in Anthropic style', () => {
    const messages = [{ role: 'user', content: 'x' }];
    rejects({ model: 'm', messages }, 'max_tokens', /Field required/);
    rejects({ ...base, max_tokens: 0, messages }, 'max_tokens', /integer/);
    rejects({ max_tokens: 5, messages }, 'model', /Field required/);
    rejects({ ...base }, 'messages', /Field required/);
    rejects({ ...base, messages: [] }, 'messages', /at least one/);
    rejects({ ...base, messages: [{ role: 'system', content: 'x' }] }, 'messages.0.role', /'user'/);
    rejects(
      { ...base, messages: [{ role: 'user', content: [{ type: 'text' }] }] },
      'messages.0.content.0.text',
      /Field required/,
    );
    rejects(
      {
        ...base,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'x' } },
            ],
          },
        ],
      },
      'messages.0.content.0.source.media_type',
      /image\/png/,
    );
    rejects(
      {
        ...base,
        messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'b' }] }],
      },
      'messages.0.content.0.type',
      /not accepted in user messages/,
    );
    rejects(
      { ...base, messages, tools: [{ name: 'f' }] },
      'tools.0.input_schema',
      /Field required/,
    );
    rejects(
      { ...base, messages, tools: [{ name: 'f', input_schema: { type: 'string' } }] },
      'tools.0.input_schema.type',
      /'object'/,
    );
    rejects(
      { ...base, messages, tools: [{ type: 'bash_20250124', name: 'bash' }] },
      'tools.0.type',
      /not available through this gateway.*web_search, web_fetch, code_execution/,
    );
    rejects(
      {
        ...base,
        messages,
        tools: [{ name: 'f', input_schema: { type: 'object' } }],
        tool_choice: { type: 'tool', name: 'g' },
      },
      'tool_choice.name',
      /no tool named 'g'/,
    );
    rejects(
      { ...base, messages, tool_choice: { type: 'any' } },
      'tool_choice',
      /at least one tool/,
    );
    rejects(
      { ...base, messages, tools: [{ name: 'a'.repeat(129), input_schema: { type: 'object' } }] },
      'tools.0.name',
      /\{1,128\}/,
    );
    rejects({ ...base, messages, temperature: 'hot' }, 'temperature', /number/);
    rejects({ ...base, messages, stop_sequences: 'END' }, 'stop_sequences', /list/);
    assert.throws(() => translateMessagesRequest([1, 2]), /JSON object/);
  });
});
