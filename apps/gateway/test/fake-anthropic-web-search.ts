// A fake Anthropic Messages API that answers a web search turn as Anthropic documents it:
// a text, the server_tool_use call, its web_search_tool_result (encrypted content), then a
// cited text; usage.server_tool_use counts the search. Streamed, the call's input comes as
// input_json_delta fragments, the result whole in its content_block_start and the citation
// as a citations_delta. A first turn pauses (stop_reason pause_turn); a turn that sends
// the paused answer back (its last message the assistant's) ends.
import type { ServerResponse } from 'node:http';
import {
  FakeProviderServer,
  SseWriter,
  sendJson,
  type AnswerMode,
  type ProviderFakeCall,
} from '@aigw/testing/fake-provider';

const SEARCH_CALL = {
  type: 'server_tool_use',
  id: 'srvtoolu_01fake',
  name: 'web_search',
  input: { query: 'weather in paris' },
};
const SEARCH_RESULT = {
  type: 'web_search_tool_result',
  tool_use_id: 'srvtoolu_01fake',
  content: [
    {
      type: 'web_search_result',
      url: 'https://example.com/paris-weather',
      title: 'Paris weather today',
      encrypted_content: 'EqgfCioIARgBIiQ3fake',
      page_age: 'today',
    },
  ],
};
const SEARCH_CITATION = {
  type: 'web_search_result_location',
  url: 'https://example.com/paris-weather',
  title: 'Paris weather today',
  encrypted_index: 'Eo8BCioIfake',
  cited_text: 'Sunny in Paris, 21 degrees.',
};
const TEXT_BEFORE = 'Let me search for that.';
const CITED_TEXT = 'It is sunny in Paris.';
/** An uncited text block right after the cited one, as Anthropic splits them. */
const TEXT_AFTER = ' Enjoy your day.';
/** The turn's content blocks, in order, as a plain (not streamed) answer carries them. */
export const SEARCH_ANSWER_CONTENT = [
  { type: 'text', text: TEXT_BEFORE },
  SEARCH_CALL,
  SEARCH_RESULT,
  { type: 'text', text: CITED_TEXT, citations: [SEARCH_CITATION] },
  { type: 'text', text: TEXT_AFTER },
];
const USAGE = {
  input_tokens: 40,
  output_tokens: 12,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  server_tool_use: { web_search_requests: 1 },
};

/** Whether a call continues a paused turn (it sends the answer back as the last message). */
export function continuesPause(call: ProviderFakeCall): boolean {
  const messages = Array.isArray(call.body.messages)
    ? (call.body.messages as { role?: unknown }[])
    : [];
  return messages.at(-1)?.role === 'assistant';
}

export class FakeAnthropicWebSearch extends FakeProviderServer {
  protected override answer(call: ProviderFakeCall, response: ServerResponse, mode: AnswerMode) {
    const stopReason = continuesPause(call) ? 'end_turn' : 'pause_turn';
    if (call.body.stream !== true) {
      return sendJson(response, {
        id: 'msg_01websearch',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: SEARCH_ANSWER_CONTENT,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: USAGE,
      });
    }
    const sse = new SseWriter(response, mode);
    const events: Record<string, unknown>[] = [
      {
        type: 'message_start',
        message: {
          id: 'msg_01websearch',
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-4-5-20250929',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 40, output_tokens: 1 },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: TEXT_BEFORE },
      },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'content_block_start',
        index: 1,
        content_block: { ...SEARCH_CALL, input: {} },
      },
      {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '{"query": "weather' },
      },
      {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: ' in paris"}' },
      },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: SEARCH_RESULT },
      { type: 'content_block_stop', index: 2 },
      { type: 'content_block_start', index: 3, content_block: { type: 'text', text: '' } },
      {
        type: 'content_block_delta',
        index: 3,
        delta: { type: 'citations_delta', citation: SEARCH_CITATION },
      },
      {
        type: 'content_block_delta',
        index: 3,
        delta: { type: 'text_delta', text: CITED_TEXT },
      },
      { type: 'content_block_stop', index: 3 },
      { type: 'content_block_start', index: 4, content_block: { type: 'text', text: '' } },
      {
        type: 'content_block_delta',
        index: 4,
        delta: { type: 'text_delta', text: TEXT_AFTER },
      },
      { type: 'content_block_stop', index: 4 },
      {
        type: 'message_delta',
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: { output_tokens: 12, server_tool_use: { web_search_requests: 1 } },
      },
      { type: 'message_stop' },
    ];
    for (const event of events) if (!sse.send(event, event.type as string)) return;
    sse.end();
  }
}
