import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANTHROPIC_SERVER_TOOLS,
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import { parseChatRequest } from '../core/chat-request';
import { withoutGatewayExtensions } from '../core/openai-extensions';
import { toAnthropicRequest } from './anthropic-request';
import { fromAnthropicMessage } from './anthropic-response';
import { AnthropicStreamTranslation } from './anthropic-stream';
import { serverToolBetas, withBetas } from './server-tool-betas';

// Anthropic's server tools from the canonical request to the Messages API and back: the
// tool as the client wrote it, an earlier turn's blocks in their places, the answer's
// blocks in order (plain) or whole in `server_tool_blocks` deltas (streamed).

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
    { type: 'web_search_result', url: 'https://e.x/p', title: 'P', encrypted_content: 'e' },
  ],
};
const CITATION = {
  type: 'web_search_result_location',
  url: 'https://e.x/p',
  title: 'P',
  encrypted_index: 'i',
  cited_text: 'Sunny.',
};
const ALL = new Set(ANTHROPIC_SERVER_TOOLS);
const THINK_FIRST = { type: 'thinking', thinking: 'I should search.', signature: 'sig-1' };
const THINK_AFTER = { type: 'thinking', thinking: 'The result says sunny.', signature: 'sig-2' };
const REDACTED = { type: 'redacted_thinking', data: 'enc-thought' };

/** A turn that thinks between its search and its answer (interleaved thinking). */
function interleavedContent(): JsonObject[] {
  return [
    THINK_FIRST,
    CALL,
    RESULT,
    THINK_AFTER,
    REDACTED,
    { type: 'text', text: 'It is sunny.', citations: [CITATION] },
  ];
}

/** A turn's content with a search: a text, the call, its result, a cited text (a new copy). */
function searchedContent(): JsonObject[] {
  return [
    { type: 'text', text: 'Let me search.' },
    CALL,
    RESULT,
    { type: 'text', text: 'It is sunny.', citations: [CITATION] },
  ];
}

function canonical(extra: JsonObject = {}): JsonObject {
  return {
    model: 'claude',
    provider_extras: { anthropic_server_tools: [WEB_SEARCH] },
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: searchedContent(),
      },
      { role: 'user', content: 'And tomorrow?' },
    ],
    ...extra,
  };
}

/** The choice of each chunk a stream's events translate into, in order. */
function streamedChoices(translation: AnthropicStreamTranslation, events: JsonObject[]) {
  return events
    .flatMap((event) => translation.translate({ event: '', id: '', data: JSON.stringify(event) }))
    .map((chunk) => (chunk.choices as JsonObject[])[0]);
}

function refusedAsServerTool(pattern: RegExp) {
  return (error: unknown) =>
    error instanceof DataPlaneError &&
    error.code === DataPlaneErrorCode.InvalidRequest &&
    pattern.test(error.message);
}

describe('Anthropic server tools to the Messages API', () => {
  it('sends the server tool as written and an earlier turn’s blocks in their places', () => {
    const prompt = parseChatRequest(canonical(), { anthropicServerTools: ALL });
    const body = toAnthropicRequest(prompt, 'claude-sonnet-4-5', false, undefined);
    assert.deepEqual(body.tools, [WEB_SEARCH]);
    assert.deepEqual((body.messages as JsonObject[])[1], {
      role: 'assistant',
      content: searchedContent(),
    });
  });

  it('sends an earlier turn’s thinking back in its places among the server tool’s blocks', () => {
    const turn = [...interleavedContent(), { type: 'thinking', thinking: 'x', signature: '' }];
    const prompt = parseChatRequest(
      canonical({
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: turn },
          { role: 'user', content: 'And tomorrow?' },
        ],
      }),
      { anthropicServerTools: ALL },
    );
    const body = toAnthropicRequest(prompt, 'claude-sonnet-4-5', false, undefined);
    // In order, as Anthropic wrote them; an unsigned block (not Claude's) is left out.
    assert.deepEqual((body.messages as JsonObject[])[1], {
      role: 'assistant',
      content: interleavedContent(),
    });
    const malformed = [THINK_FIRST, CALL, { type: 'thinking', thinking: 5, signature: 's' }];
    assert.throws(
      () =>
        parseChatRequest(
          canonical({
            messages: [
              { role: 'user', content: 'Weather in Paris?' },
              { role: 'assistant', content: malformed },
            ],
          }),
          { anthropicServerTools: ALL },
        ),
      (error: unknown) =>
        error instanceof DataPlaneError && error.param === 'messages[1].content[2]',
    );
  });

  it('names a bad part after a server tool’s blocks at its place in the message as sent', () => {
    const content = [...searchedContent().slice(0, 3), { type: 'text', text: 5 }];
    const bad = canonical({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content },
      ],
    });
    assert.throws(
      () => parseChatRequest(bad, { anthropicServerTools: ALL }),
      (error: unknown) =>
        error instanceof DataPlaneError && error.param === 'messages[1].content[3]',
    );
  });

  it('forces a server tool a tool_choice names', () => {
    const prompt = parseChatRequest(
      canonical({ tool_choice: { type: 'function', function: { name: 'web_search' } } }),
      { anthropicServerTools: ALL },
    );
    const body = toAnthropicRequest(prompt, 'claude-sonnet-4-5', false, undefined);
    assert.deepEqual(body.tool_choice, { type: 'tool', name: 'web_search' });
  });

  it('refuses the tool and its blocks where the backend cannot run it, naming them', () => {
    const askOnly = canonical({ messages: [{ role: 'user', content: 'Hi' }] });
    assert.throws(
      () => parseChatRequest(askOnly),
      refusedAsServerTool(/web_search server tool is run by Anthropic backends and Claude models/),
    );
    // Vertex's Claude runs web search, not web fetch.
    const fetch = { type: 'web_fetch_20250910', name: 'web_fetch' };
    assert.throws(
      () =>
        parseChatRequest(canonical({ provider_extras: { anthropic_server_tools: [fetch] } }), {
          anthropicServerTools: new Set(['web_search'] as const),
        }),
      refusedAsServerTool(/web_fetch server tool is run by Anthropic backends only/),
    );
    const { provider_extras: _extras, ...historyOnly } = canonical();
    assert.throws(
      () => parseChatRequest(historyOnly),
      refusedAsServerTool(/server_tool_use block of an Anthropic server tool/),
    );
    // An OpenAI-format backend is refused the same, never sent either.
    assert.throws(
      () => withoutGatewayExtensions(askOnly),
      refusedAsServerTool(/web_search server tool/),
    );
    assert.throws(
      () => withoutGatewayExtensions(historyOnly),
      refusedAsServerTool(/messages\[1\]\.content\[1\] is a server_tool_use block/),
    );
  });

  it('names the betas the tools need, beside the client’s own', () => {
    const fetch = { type: 'web_fetch_20250910', name: 'web_fetch' };
    const code = { type: 'code_execution_20250825', name: 'code_execution' };
    assert.deepEqual(serverToolBetas([WEB_SEARCH]), []);
    assert.deepEqual(serverToolBetas([WEB_SEARCH, fetch, code, fetch]), [
      'web-fetch-2025-09-10',
      'code-execution-2025-08-25',
    ]);
    assert.equal(
      withBetas('claude-code-20250219, web-fetch-2025-09-10', ['web-fetch-2025-09-10']),
      'claude-code-20250219,web-fetch-2025-09-10',
    );
    assert.equal(withBetas(undefined, []), undefined);
  });
});

describe('Anthropic server tools from the Messages API', () => {
  it('answers the blocks in order, the pause and the searches counted', () => {
    const translated = fromAnthropicMessage(
      {
        type: 'message',
        id: 'msg_1',
        content: searchedContent(),
        stop_reason: 'pause_turn',
        usage: { input_tokens: 10, output_tokens: 5, server_tool_use: { web_search_requests: 2 } },
      },
      'claude',
    );
    assert.ok(translated);
    const choice = (translated.completion.choices as JsonObject[])[0];
    assert.deepEqual((choice.message as JsonObject).content, searchedContent());
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.stop_reason, 'pause_turn');
    assert.deepEqual(translated.usage.serverToolRequests, { web_search: 2 });
  });

  it('answers interleaved thinking in its places among the blocks, its text as reasoning', () => {
    const translated = fromAnthropicMessage(
      {
        type: 'message',
        id: 'msg_1',
        content: interleavedContent(),
        stop_reason: 'end_turn',
        usage: { input_tokens: 10, output_tokens: 5 },
      },
      'claude',
    );
    assert.ok(translated);
    const message = (translated.completion.choices as JsonObject[])[0].message as JsonObject;
    assert.deepEqual(message.content, interleavedContent());
    // Read as any reasoning is; the blocks are in the content only, never twice.
    assert.equal(message.reasoning_content, 'I should search.The result says sunny.');
    assert.equal(message.thinking_blocks, undefined);
  });

  it('keeps a plain answer’s content a string', () => {
    const translated = fromAnthropicMessage(
      {
        type: 'message',
        content: [{ type: 'text', text: 'Hi.' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 1, output_tokens: 1 },
      },
      'claude',
    );
    const choice = (translated?.completion.choices as JsonObject[])[0];
    assert.equal((choice.message as JsonObject).content, 'Hi.');
    assert.equal(translated?.usage.serverToolRequests, undefined);
  });

  it('streams a call whole once its input is, results and citations as they come', () => {
    const translation = new AnthropicStreamTranslation('claude', 'claude');
    const events: JsonObject[] = [
      { type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 10 } } },
      { type: 'content_block_start', index: 0, content_block: { ...CALL, input: {} } },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{"query": "weather' },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: ' paris"}' },
      },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: RESULT },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } },
      {
        type: 'content_block_delta',
        index: 2,
        delta: { type: 'citations_delta', citation: CITATION },
      },
      { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'Sunny.' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'content_block_start', index: 3, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 3, delta: { type: 'text_delta', text: ' More.' } },
      { type: 'content_block_stop', index: 3 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'pause_turn' },
        usage: { output_tokens: 7, server_tool_use: { web_search_requests: 1 } },
      },
      { type: 'message_stop' },
    ];
    const deltas = streamedChoices(translation, events);
    assert.deepEqual(
      deltas.map((choice) => choice.delta),
      [
        { role: 'assistant', content: '' },
        { server_tool_blocks: [CALL] },
        { server_tool_blocks: [RESULT] },
        { citations: [CITATION] },
        { content: 'Sunny.' },
        // The next text block is marked as one, so it does not take the citation before it.
        { citations: [] },
        { content: ' More.' },
        {},
      ],
    );
    assert.equal(deltas.at(-1)?.stop_reason, 'pause_turn');
    assert.deepEqual(translation.reportedUsage()?.serverToolRequests, { web_search: 1 });
  });

  it('streams interleaved thinking in its places between the server tool’s blocks', () => {
    const translation = new AnthropicStreamTranslation('claude', 'claude');
    const thinking = (index: number, block: JsonObject): JsonObject[] => [
      { type: 'content_block_start', index, content_block: { ...block, thinking: '' } },
      {
        type: 'content_block_delta',
        index,
        delta: { type: 'thinking_delta', thinking: block.thinking },
      },
      {
        type: 'content_block_delta',
        index,
        delta: { type: 'signature_delta', signature: block.signature },
      },
      { type: 'content_block_stop', index },
    ];
    const events: JsonObject[] = [
      { type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 10 } } },
      ...thinking(0, THINK_FIRST),
      { type: 'content_block_start', index: 1, content_block: CALL },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: RESULT },
      { type: 'content_block_stop', index: 2 },
      ...thinking(3, THINK_AFTER),
      { type: 'content_block_start', index: 4, content_block: REDACTED },
      { type: 'content_block_stop', index: 4 },
      { type: 'content_block_start', index: 5, content_block: { type: 'text', text: 'Sunny.' } },
      { type: 'content_block_stop', index: 5 },
      { type: 'message_stop' },
    ];
    const deltas = streamedChoices(translation, events).map((choice) => choice.delta);
    assert.deepEqual(deltas, [
      { role: 'assistant', content: '' },
      { reasoning_content: 'I should search.' },
      { thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig-1' }] },
      { server_tool_blocks: [CALL] },
      { server_tool_blocks: [RESULT] },
      { reasoning_content: 'The result says sunny.' },
      { thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig-2' }] },
      { thinking_blocks: [REDACTED] },
      { content: 'Sunny.' },
      {},
    ]);
  });
});
