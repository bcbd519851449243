// A fake Anthropic Messages API whose answer searches and fetches with interleaved
// thinking, as Claude 4 does: it thinks, searches, thinks again on the result, fetches a
// page, and answers with a cited text. The readable text (the query, a result's title,
// the fetched page, the cited text) names PRESS_EMAIL, and so do what must pass untouched
// (the search result's encrypted content, the URLs): a route's rules show which they read.
// Streamed, the same blocks come as Anthropic streams them (thinking_delta then
// signature_delta, a call's input in input_json_delta fragments, results whole, citations
// as citations_delta). A first turn pauses (pause_turn); one that sends it back ends.
import type { ServerResponse } from 'node:http';
import {
  FakeProviderServer,
  SseWriter,
  sendJson,
  type AnswerMode,
  type ProviderFakeCall,
} from '@aigw/testing/fake-provider';
import { continuesPause } from './fake-anthropic-web-search';

export const PRESS_EMAIL = 'press@meteo-paris.example';
const PAGE_URL = `https://meteo-paris.example/contact/${PRESS_EMAIL}`;

/**
 * The answer's content blocks in order, with `readable` where the page's address stands in
 * readable text (the address itself as Anthropic answers, or the mask a rule leaves).
 */
export function thinkingSearchContent(readable = PRESS_EMAIL): Record<string, unknown>[] {
  return [
    { type: 'thinking', thinking: 'I should search for it.', signature: 'EuYBsig-before' },
    {
      type: 'server_tool_use',
      id: 'srvtoolu_01search',
      name: 'web_search',
      input: { query: `paris weather ${readable}` },
    },
    {
      type: 'web_search_tool_result',
      tool_use_id: 'srvtoolu_01search',
      content: [
        {
          type: 'web_search_result',
          url: PAGE_URL,
          title: `Météo Paris, ${readable}`,
          encrypted_content: `EqgfCioI-${PRESS_EMAIL}`,
          page_age: 'today',
        },
      ],
    },
    // Claude thinks on the result before it goes on (interleaved thinking).
    { type: 'thinking', thinking: 'The page has it; let me read it.', signature: 'EuYBsig-after' },
    {
      type: 'server_tool_use',
      id: 'srvtoolu_01fetch',
      name: 'web_fetch',
      input: { url: 'https://meteo-paris.example/today' },
    },
    {
      type: 'web_fetch_tool_result',
      tool_use_id: 'srvtoolu_01fetch',
      content: {
        type: 'web_fetch_result',
        url: PAGE_URL,
        content: {
          type: 'document',
          source: {
            type: 'text',
            media_type: 'text/plain',
            data: `Sunny, 21 degrees. Press: ${readable}.`,
          },
          title: 'Météo Paris today',
        },
        retrieved_at: '2026-12-06T17:00:00Z',
      },
    },
    { type: 'redacted_thinking', data: 'EmwKAhgBEgy-redacted' },
    {
      type: 'text',
      text: 'It is sunny in Paris.',
      citations: [
        {
          type: 'web_search_result_location',
          url: PAGE_URL,
          title: 'Météo Paris',
          encrypted_index: 'Eo8BCioI-index',
          cited_text: `Sunny, 21 degrees. Press: ${readable}.`,
        },
      ],
    },
  ];
}

const USAGE = {
  input_tokens: 60,
  output_tokens: 20,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  server_tool_use: { web_search_requests: 1, web_fetch_requests: 1 },
};

/** One content block as Anthropic streams it, at `index`. */
function blockEvents(index: number, block: Record<string, unknown>): Record<string, unknown>[] {
  const start = (contentBlock: Record<string, unknown>) => ({
    type: 'content_block_start',
    index,
    content_block: contentBlock,
  });
  const delta = (value: Record<string, unknown>) => ({
    type: 'content_block_delta',
    index,
    delta: value,
  });
  const stop = { type: 'content_block_stop', index };
  switch (block.type) {
    case 'thinking':
      return [
        start({ type: 'thinking', thinking: '', signature: '' }),
        delta({ type: 'thinking_delta', thinking: block.thinking }),
        delta({ type: 'signature_delta', signature: block.signature }),
        stop,
      ];
    case 'text':
      return [
        start({ type: 'text', text: '' }),
        ...((block.citations as unknown[] | undefined) ?? []).map((citation) =>
          delta({ type: 'citations_delta', citation }),
        ),
        delta({ type: 'text_delta', text: block.text }),
        stop,
      ];
    case 'server_tool_use': {
      // The input in two fragments, as a real stream cuts it anywhere.
      const input = JSON.stringify(block.input);
      const cut = Math.floor(input.length / 2);
      return [
        start({ ...block, input: {} }),
        delta({ type: 'input_json_delta', partial_json: input.slice(0, cut) }),
        delta({ type: 'input_json_delta', partial_json: input.slice(cut) }),
        stop,
      ];
    }
    default: // results and redacted thinking come whole in their start
      return [start(block), stop];
  }
}

export class FakeAnthropicThinkingSearch extends FakeProviderServer {
  protected override answer(call: ProviderFakeCall, response: ServerResponse, mode: AnswerMode) {
    const stopReason = continuesPause(call) ? 'end_turn' : 'pause_turn';
    const message = {
      id: 'msg_01thinkingsearch',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      stop_sequence: null,
    };
    const content = thinkingSearchContent();
    if (call.body.stream !== true) {
      return sendJson(response, { ...message, content, stop_reason: stopReason, usage: USAGE });
    }
    const sse = new SseWriter(response, mode);
    const events: Record<string, unknown>[] = [
      {
        type: 'message_start',
        message: {
          ...message,
          content: [],
          stop_reason: null,
          usage: { input_tokens: 60, output_tokens: 1 },
        },
      },
      ...content.flatMap((block, index) => blockEvents(index, block)),
      {
        type: 'message_delta',
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: { output_tokens: 20, server_tool_use: USAGE.server_tool_use },
      },
      { type: 'message_stop' },
    ];
    for (const event of events) if (!sse.send(event, event.type as string)) return;
    sse.end();
  }
}
