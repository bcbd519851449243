import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { translateMessagesRequest } from './anthropic-request';
import { toAnthropicMessage } from './anthropic-response';
import { MessageStreamTranslator } from './anthropic-stream';

// Anthropic's server tools (web search) through the Messages edge: the tool rides in the
// canonical request's provider_extras, the answer's server tool blocks and cited texts in
// its content parts (plain) or the delta's server_tool_blocks and citations (streamed).

const WEB_SEARCH = { type: 'web_search_20250305', name: 'web_search', max_uses: 3 };
const CALL = {
  type: 'server_tool_use',
  id: 'srvtoolu_1',
  name: 'web_search',
  input: { query: 'weather paris' },
};
const RESULT = {
  type: 'web_search_tool_result',
  tool_use_id: 'srvtoolu_1',
  content: [
    {
      type: 'web_search_result',
      url: 'https://example.com/paris',
      title: 'Paris weather',
      encrypted_content: 'enc-1',
      page_age: null,
    },
  ],
};
const CITATION = {
  type: 'web_search_result_location',
  url: 'https://example.com/paris',
  title: 'Paris weather',
  encrypted_index: 'idx-1',
  cited_text: 'Sunny, 21 degrees.',
};
const base = { model: 'claude-sonnet-4', max_tokens: 256 };
const THINK_FIRST = { type: 'thinking', thinking: 'I should search.', signature: 'sig-1' };
const THINK_AFTER = { type: 'thinking', thinking: 'The result says sunny.', signature: 'sig-2' };
const REDACTED = { type: 'redacted_thinking', data: 'enc-thought' };
/** A turn that thinks between its search and its answer (interleaved thinking). */
const INTERLEAVED = [
  THINK_FIRST,
  CALL,
  RESULT,
  THINK_AFTER,
  REDACTED,
  { type: 'text', text: 'It is sunny.', citations: [CITATION] },
];

function usage(extra: Partial<TokenUsage> = {}): TokenUsage {
  return { inputTokens: 30, outputTokens: 8, cachedInputTokens: 0, source: 'reported', ...extra };
}

describe('Anthropic server tools through the Messages edge', () => {
  it('carries a server tool as the client wrote it beside its own tools', () => {
    const { chat } = translateMessagesRequest({
      ...base,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      top_k: 5,
      tools: [WEB_SEARCH, { name: 'f', input_schema: { type: 'object' } }],
      tool_choice: { type: 'auto' },
    });
    assert.deepEqual(chat.provider_extras, { top_k: 5, anthropic_server_tools: [WEB_SEARCH] });
    assert.deepEqual(chat.tools, [
      { type: 'function', function: { name: 'f', parameters: { type: 'object' } } },
    ]);
    assert.equal(chat.tool_choice, 'auto');
  });

  it('takes tool_choice any with server tools only, or naming one', () => {
    const { chat } = translateMessagesRequest({
      ...base,
      messages: [{ role: 'user', content: 'Search' }],
      tools: [WEB_SEARCH],
      tool_choice: { type: 'any' },
    });
    assert.equal(chat.tool_choice, 'required');
    assert.equal(chat.tools, undefined);
    const forced = translateMessagesRequest({
      ...base,
      messages: [{ role: 'user', content: 'Search' }],
      tools: [WEB_SEARCH],
      tool_choice: { type: 'tool', name: 'web_search' },
    });
    assert.deepEqual(forced.chat.tool_choice, {
      type: 'function',
      function: { name: 'web_search' },
    });
  });

  it('keeps an earlier turn’s server tool blocks and cited texts in order', () => {
    const earlierTurn = [
      { type: 'text', text: 'Let me search.' },
      CALL,
      RESULT,
      { type: 'text', text: 'It is sunny.', citations: [CITATION] },
    ];
    const { chat } = translateMessagesRequest({
      ...base,
      tools: [WEB_SEARCH],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        // A copy: the expected turn stays as written even if translation touched its input.
        { role: 'assistant', content: structuredClone(earlierTurn) },
        { role: 'user', content: 'Thanks' },
      ],
    });
    const messages = chat.messages as JsonObject[];
    assert.deepEqual(messages[1], { role: 'assistant', content: earlierTurn });
  });

  it('keeps an earlier turn’s thinking in its places among the server tool’s blocks', () => {
    const { chat } = translateMessagesRequest({
      ...base,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      max_tokens: 2048,
      tools: [WEB_SEARCH],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: structuredClone(INTERLEAVED) },
        { role: 'user', content: 'Thanks' },
      ],
    });
    const messages = chat.messages as JsonObject[];
    assert.deepEqual(messages[1], { role: 'assistant', content: INTERLEAVED });
  });

  it('answers thinking in its places among a server tool’s blocks, not first', () => {
    const completion = {
      id: 'msg_1',
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          message: {
            role: 'assistant',
            content: INTERLEAVED,
            // The same reasoning as text: it must not come again as an unsigned block.
            reasoning_content: 'I should search.The result says sunny.',
          },
        },
      ],
    };
    const message = toAnthropicMessage(
      completion,
      usage(),
      { model: 'claude-virtual', stream: false, stopSequences: [] },
      'req-1',
    );
    assert.deepEqual(message.content, INTERLEAVED);
  });

  it('streams interleaved thinking as blocks in its places between the server tool’s', () => {
    const translator = new MessageStreamTranslator(
      { model: 'claude-virtual', stream: true, stopSequences: [] },
      'req-1',
    );
    const chunk = (delta: JsonObject) => ({
      id: 'msg_1',
      choices: [{ index: 0, delta, finish_reason: null }],
    });
    const events = [
      chunk({ reasoning_content: 'I should search.' }),
      chunk({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig-1' }] }),
      chunk({ server_tool_blocks: [CALL] }),
      chunk({ server_tool_blocks: [RESULT] }),
      chunk({ reasoning_content: 'The result says sunny.' }),
      chunk({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig-2' }] }),
      chunk({ thinking_blocks: [REDACTED] }),
      chunk({ content: 'Sunny.' }),
    ].flatMap((c) => translator.push(c));
    events.push(...translator.finish(usage()));
    const starts = events.flatMap((e) =>
      e.type === 'content_block_start' ? [e.content_block.type] : [],
    );
    assert.deepEqual(starts, [
      'thinking',
      'server_tool_use',
      'web_search_tool_result',
      'thinking',
      'redacted_thinking',
      'text',
    ]);
  });

  it('answers a plain web search turn with its blocks in order, pause_turn and the searches', () => {
    const completion = {
      id: 'msg_1',
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          stop_reason: 'pause_turn',
          message: {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Let me search.' },
              CALL,
              RESULT,
              { type: 'text', text: 'It is sunny.', citations: [CITATION] },
            ],
          },
        },
      ],
    };
    const message = toAnthropicMessage(
      completion,
      usage({ serverToolRequests: { web_search: 1 } }),
      { model: 'claude-virtual', stream: false, stopSequences: [] },
      'req-1',
    );
    assert.deepEqual(message.content, [
      { type: 'text', text: 'Let me search.' },
      CALL,
      RESULT,
      { type: 'text', text: 'It is sunny.', citations: [CITATION] },
    ]);
    assert.equal(message.stop_reason, 'pause_turn');
    assert.deepEqual(message.usage.server_tool_use, { web_search_requests: 1 });
  });

  it('streams server tool blocks as their own content blocks and citations as citations_delta', () => {
    const translator = new MessageStreamTranslator(
      { model: 'claude-virtual', stream: true, stopSequences: [] },
      'req-1',
    );
    const chunk = (delta: JsonObject, finish: string | null = null, stop?: string) => ({
      id: 'msg_1',
      choices: [{ index: 0, delta, finish_reason: finish, ...(stop ? { stop_reason: stop } : {}) }],
    });
    const events = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Let me search.' }),
      chunk({ server_tool_blocks: [CALL] }),
      chunk({ server_tool_blocks: [RESULT] }),
      chunk({ content: 'Paris: ' }),
      chunk({ citations: [CITATION] }),
      chunk({ content: 'sunny.' }),
      // An uncited text block after it: its own block, without the citation.
      chunk({ citations: [] }),
      chunk({ content: ' More soon.' }),
      chunk({}, 'stop', 'pause_turn'),
    ].flatMap((c) => translator.push(c));
    events.push(...translator.finish(usage({ serverToolRequests: { web_search: 1 } })));
    const blocks = events.filter((e) => e.type !== 'message_start' && e.type !== 'message_stop');
    assert.deepEqual(blocks, [
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: 'Let me search.' },
      },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { ...CALL, input: {} } },
      {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(CALL.input) },
      },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: RESULT },
      { type: 'content_block_stop', index: 2 },
      { type: 'content_block_start', index: 3, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 3, delta: { type: 'text_delta', text: 'Paris: ' } },
      { type: 'content_block_stop', index: 3 },
      { type: 'content_block_start', index: 4, content_block: { type: 'text', text: '' } },
      {
        type: 'content_block_delta',
        index: 4,
        delta: { type: 'citations_delta', citation: CITATION },
      },
      { type: 'content_block_delta', index: 4, delta: { type: 'text_delta', text: 'sunny.' } },
      { type: 'content_block_stop', index: 4 },
      { type: 'content_block_start', index: 5, content_block: { type: 'text', text: '' } },
      {
        type: 'content_block_delta',
        index: 5,
        delta: { type: 'text_delta', text: ' More soon.' },
      },
      { type: 'content_block_stop', index: 5 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'pause_turn', stop_sequence: null },
        usage: {
          input_tokens: 30,
          output_tokens: 8,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
          server_tool_use: { web_search_requests: 1 },
        },
      },
    ]);
  });
});
