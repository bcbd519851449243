import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { GeminiStreamTranslator } from './gemini-stream';

const facts = { model: 'my-virtual', stream: true, includeThoughts: false };
const usage: TokenUsage = {
  inputTokens: 3,
  outputTokens: 4,
  cachedInputTokens: 0,
  source: 'reported',
};

/** An OpenAI chunk with one choice's delta text and, when given, its finish_reason. */
function chunk(index: number, content: string, finish: string | null = null): JsonObject {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    choices: [{ index, delta: { content }, finish_reason: finish }],
  };
}

/** Each candidate's finishReason in the closing event, by index. */
function closingFinishes(translator: GeminiStreamTranslator): Record<number, unknown> {
  const [closing] = translator.finish(usage);
  const candidates = closing.candidates as JsonObject[];
  return Object.fromEntries(candidates.map((c) => [c.index as number, c.finishReason]));
}

/** A chunk carrying fragments of the first choice's tool calls. */
function calls(...fragments: JsonObject[]): JsonObject {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta: { tool_calls: fragments }, finish_reason: null }],
  };
}

/** A call's fragment: its first names it whole (as the providers' wire hands it on). */
function fragment(index: number, args: string, name?: string): JsonObject {
  const fn: JsonObject = { arguments: args };
  if (name !== undefined) fn.name = name;
  return name === undefined
    ? { index, function: fn }
    : { index, id: `call_${index}`, type: 'function', function: fn };
}

/** Every functionCall part the stream sent, in order, from its events and closing event. */
function functionCalls(events: JsonObject[]): unknown[] {
  return events.flatMap((event) =>
    (event.candidates as JsonObject[]).flatMap((candidate) =>
      (((candidate.content as JsonObject | undefined)?.parts ?? []) as JsonObject[]).flatMap(
        (part) => (part.functionCall ? [part.functionCall] : []),
      ),
    ),
  );
}

/** Claude Code's MCP tool names, past OpenAI's 64: aliased to the backend, restored whole. */
const MCP_A = `mcp__plugin_marketplace_docs__${'search_the_whole_site_'.repeat(4)}`;
const MCP_B = `mcp__plugin_marketplace_docs__${'read_the_whole_page_'.repeat(4)}`;

describe('Gemini stream translation', () => {
  it("closes each candidate with its choice's finish reason", () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    translator.push(chunk(0, 'A', 'stop'));
    translator.push(chunk(1, 'B', 'length'));
    assert.deepEqual(closingFinishes(translator), { 0: 'STOP', 1: 'MAX_TOKENS' });
  });

  it('closes a candidate the backend never finished as FINISH_REASON_UNSPECIFIED, not STOP', () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    translator.push(chunk(0, 'A', 'stop'));
    // Choice 1 spoke but its stream ended without a finish_reason: it was cut.
    translator.push(chunk(1, 'B'));
    assert.deepEqual(closingFinishes(translator), { 0: 'STOP', 1: 'FINISH_REASON_UNSPECIFIED' });
  });

  it("streams a backend's refusal as text parts and closes its candidate with SAFETY", () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    const refusal = (text: string): JsonObject => ({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: { content: null, refusal: text }, finish_reason: null }],
    });
    const events = [...translator.push(refusal("I can't")), ...translator.push(refusal(' help.'))];
    assert.deepEqual(
      events.map((event) => (event.candidates as JsonObject[])[0].content),
      [
        { role: 'model', parts: [{ text: "I can't" }] },
        { role: 'model', parts: [{ text: ' help.' }] },
      ],
    );
    translator.push(chunk(0, '', 'stop'));
    assert.deepEqual(closingFinishes(translator), { 0: 'SAFETY' });
  });

  it('closes a candidate with the policy stop its backend named (RECITATION), not SAFETY', () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    translator.push(chunk(0, 'As the'));
    translator.push(chunk(1, 'Fine', 'content_filter'));
    translator.push({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      choices: [
        {
          index: 0,
          delta: { extra_content: { google: { finish_reason: 'RECITATION' } } },
          finish_reason: 'content_filter',
        },
      ],
    });
    assert.deepEqual(closingFinishes(translator), { 0: 'RECITATION', 1: 'SAFETY' });
  });

  it('closes a refused candidate the backend never finished with SAFETY too', () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    translator.push({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: { content: null, refusal: "I can't" }, finish_reason: null }],
    });
    // Cut before a finish_reason: the refusal already said why the model stopped.
    translator.push(chunk(1, 'B'));
    assert.deepEqual(closingFinishes(translator), { 0: 'SAFETY', 1: 'FINISH_REASON_UNSPECIFIED' });
  });
  it('sends two interleaved parallel calls whole, each with its name and arguments, in index order', () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    const sent = [
      calls(fragment(0, '', 'search_docs')),
      calls(fragment(1, '', 'read_page')),
      calls(fragment(0, '{"q": "in')),
      calls(fragment(1, '{"url": "/up')),
      calls(fragment(0, 'stall"}')),
      calls(fragment(1, 'date"}')),
    ].flatMap((c) => translator.push(c));
    assert.deepEqual(functionCalls(sent), [], 'nothing goes out before the calls are complete');
    const finished = translator.push(chunk(0, '', 'tool_calls'));
    assert.deepEqual(functionCalls([...finished, ...translator.finish(usage)]), [
      { id: 'call_0', name: 'search_docs', args: { q: 'install' } },
      { id: 'call_1', name: 'read_page', args: { url: '/update' } },
    ]);
  });

  it('sends three interleaved calls with long (restored) names whole in index order, call 2 begun first', () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    const sent = [
      calls(fragment(2, '{"q": ', MCP_A)),
      calls(fragment(0, '{"q": "a', MCP_A), fragment(1, '', MCP_B)),
      calls(fragment(1, '{"url": "b"}'), fragment(0, '"}')),
      calls(fragment(2, '"c"}')),
    ].flatMap((c) => translator.push(c));
    // The stream ends with no finish_reason: the calls still go out, whole.
    sent.push(...translator.finish(usage));
    assert.deepEqual(functionCalls(sent), [
      { id: 'call_0', name: MCP_A, args: { q: 'a' } },
      { id: 'call_1', name: MCP_B, args: { url: 'b' } },
      { id: 'call_2', name: MCP_A, args: { q: 'c' } },
    ]);
  });

  it('closes a call the token limit cut off mid-arguments with args {} and MAX_TOKENS', () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    translator.push(calls(fragment(0, '{"q": "ha', 'search_docs')));
    const finished = translator.push(chunk(0, '', 'length'));
    const closing = translator.finish(usage);
    assert.deepEqual(functionCalls([...finished, ...closing]), [
      { id: 'call_0', name: 'search_docs', args: {} },
    ]);
    const candidates = closing[0]?.candidates as JsonObject[];
    assert.equal(candidates[0]?.finishReason, 'MAX_TOKENS');
  });

  it('sends calls that come one after another in one piece each, as before', () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    const sent = [
      calls(fragment(0, '{"q": ', MCP_A)),
      calls(fragment(0, '"a"}')),
      calls(fragment(1, '{"url": "b"}', MCP_B)),
      chunk(0, '', 'tool_calls'),
    ].flatMap((c) => translator.push(c));
    assert.deepEqual(functionCalls(sent), [
      { id: 'call_0', name: MCP_A, args: { q: 'a' } },
      { id: 'call_1', name: MCP_B, args: { url: 'b' } },
    ]);
  });

  it('sends text that follows whole calls after them, in the order it came', () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    const sent = [
      calls(fragment(0, '{"q": ', 'search_docs')),
      calls(fragment(0, '"a"}')),
      chunk(0, 'Searching now.'),
      chunk(0, '', 'tool_calls'),
    ].flatMap((c) => translator.push(c));
    const order = sent.flatMap((event) =>
      (event.candidates as JsonObject[]).flatMap((candidate) =>
        (((candidate.content as JsonObject | undefined)?.parts ?? []) as JsonObject[]).map(
          (part) => (part.functionCall ? 'call' : `text:${String(part.text)}`),
        ),
      ),
    );
    assert.deepEqual(order, ['call', 'text:Searching now.']);
    assert.deepEqual(functionCalls(sent), [
      { id: 'call_0', name: 'search_docs', args: { q: 'a' } },
    ]);
  });

  it('keeps calls still mid-arguments for the finish when text comes between their pieces', () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    const sent = [
      calls(fragment(0, '{"q": ', 'search_docs')),
      chunk(0, 'Hm.'),
      calls(fragment(0, '"a"}')),
      chunk(0, '', 'tool_calls'),
    ].flatMap((c) => translator.push(c));
    assert.deepEqual(functionCalls(sent), [
      { id: 'call_0', name: 'search_docs', args: { q: 'a' } },
    ]);
  });

  it('continues the last call with a fragment that names no index (a backend that leaves it out)', () => {
    const translator = new GeminiStreamTranslator(facts, 'req-1');
    const unindexed = (call: JsonObject): JsonObject => {
      const { index: _, ...rest } = call;
      return rest;
    };
    const sent = [
      calls(unindexed(fragment(0, '{"q": ', 'search_docs'))),
      calls(unindexed(fragment(0, '"a"}'))),
      calls(unindexed(fragment(1, '{}', 'read_page'))),
      chunk(0, '', 'tool_calls'),
    ].flatMap((c) => translator.push(c));
    assert.deepEqual(functionCalls(sent), [
      { id: 'call_0', name: 'search_docs', args: { q: 'a' } },
      { id: 'call_1', name: 'read_page', args: {} },
    ]);
  });
});
