import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AnthropicStreamEvent } from '@aigw/contracts';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { MessageStreamTranslator } from './anthropic-stream';

const usage: TokenUsage = {
  inputTokens: 12,
  outputTokens: 6,
  cachedInputTokens: 0,
  source: 'reported',
};

function chunk(delta: JsonObject, finish_reason: string | null = null): JsonObject {
  return {
    id: 'chatcmpl-s',
    object: 'chat.completion.chunk',
    model: 'm',
    choices: [{ index: 0, delta, finish_reason }],
  };
}

function run(chunks: JsonObject[], stopSequences: string[] = []): AnthropicStreamEvent[] {
  const translator = new MessageStreamTranslator(
    { model: 'claude-virtual', stream: true, stopSequences },
    'req-1',
  );
  return [...chunks.flatMap((c) => translator.push(c)), ...translator.finish(usage)];
}

describe('OpenAI chunks to Anthropic stream events', () => {
  it('streams text in the documented order with usage in message_delta', () => {
    const events = run([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hello' }),
      chunk({ content: ' world' }),
      chunk({}, 'stop'),
      { id: 'chatcmpl-s', object: 'chat.completion.chunk', choices: [], usage: {} },
    ]);
    assert.deepEqual(events, [
      {
        type: 'message_start',
        message: {
          id: 'msg_chatcmpl-s',
          type: 'message',
          role: 'assistant',
          content: [],
          model: 'claude-virtual',
          stop_reason: null,
          stop_sequence: null,
          // Not known before the end: null, as Anthropic's Usage allows.
          usage: { input_tokens: 0, output_tokens: 0, cache_creation: null },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' world' } },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: {
          input_tokens: 12,
          output_tokens: 6,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
        },
      },
      { type: 'message_stop' },
    ]);
  });

  it("names the served tier in message_start's usage as Anthropic does, in message_delta when only named at the end", () => {
    const tiered = (tier: string, at: 'first' | 'last') => {
      const chunks = [chunk({ role: 'assistant', content: '' }), chunk({}, 'stop')];
      const index = at === 'first' ? 0 : 1;
      chunks[index] = { ...chunks[index], service_tier: tier };
      const events = run(chunks);
      const start = events.find((e) => e.type === 'message_start');
      const delta = events.find((e) => e.type === 'message_delta');
      return [
        start?.type === 'message_start' ? start.message.usage.service_tier : 'no start',
        delta?.type === 'message_delta' ? delta.usage.service_tier : 'no delta',
      ];
    };
    // OpenAI's chunks (and ours from Anthropic) name it from the first chunk on.
    assert.deepEqual(tiered('default', 'first'), ['standard', undefined]);
    assert.deepEqual(tiered('priority', 'first'), ['priority', undefined]);
    // Bedrock names it in its last event: message_start is long gone.
    assert.deepEqual(tiered('priority', 'last'), [undefined, 'priority']);
    // Tiers Anthropic has no name for are not named, as in a JSON answer.
    assert.deepEqual(tiered('flex', 'first'), [undefined, undefined]);
  });

  it('reports the prompt-cache writes (by lifetime) and reads in message_delta, where the SDKs read them', () => {
    const translator = new MessageStreamTranslator(
      { model: 'claude-virtual', stream: true, stopSequences: [] },
      'req-1',
    );
    translator.push(chunk({ content: 'Hi' }, 'stop'));
    const written = { ...usage, inputTokens: 1_325, cachedInputTokens: 100 };
    const events = translator.finish({
      ...written,
      cacheWriteInputTokens: 1_200,
      cacheWrite1hInputTokens: 500,
    });
    const delta = events.find((event) => event.type === 'message_delta');
    assert.deepEqual(delta?.usage, {
      input_tokens: 25,
      output_tokens: 6,
      cache_creation_input_tokens: 1_200,
      cache_read_input_tokens: 100,
      cache_creation: { ephemeral_5m_input_tokens: 700, ephemeral_1h_input_tokens: 500 },
    });
  });

  it('streams tool calls as tool_use blocks with input_json_delta pieces', () => {
    const events = run([
      chunk({ role: 'assistant', content: 'Checking.' }),
      chunk({
        tool_calls: [
          {
            index: 0,
            id: 'call_a',
            type: 'function',
            function: { name: 'weather', arguments: '' },
          },
        ],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({
        tool_calls: [
          { index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } },
        ],
      }),
      chunk({}, 'tool_calls'),
    ]);
    const shapes = events.map((event) => {
      switch (event.type) {
        case 'content_block_start':
          return `start ${event.index} ${event.content_block.type}`;
        case 'content_block_delta':
          return `delta ${event.index} ${
            event.delta.type === 'input_json_delta' ? event.delta.partial_json : event.delta.type
          }`;
        case 'content_block_stop':
          return `stop ${event.index}`;
        case 'message_delta':
          return `message_delta ${event.delta.stop_reason}`;
        default:
          return event.type;
      }
    });
    assert.deepEqual(shapes, [
      'message_start',
      'start 0 text',
      'delta 0 text_delta',
      'stop 0',
      'start 1 tool_use',
      'delta 1 {"city":',
      'delta 1 "Paris"}',
      'stop 1',
      'start 2 tool_use',
      'delta 2 {}',
      'stop 2',
      'message_delta tool_use',
      'message_stop',
    ]);
    const toolStart = events.find(
      (event) => event.type === 'content_block_start' && event.index === 1,
    );
    assert.deepEqual(toolStart, {
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'call_a', name: 'weather', input: {} },
    });
  });

  describe("a tool call's name, handed on whole by the providers (StreamedToolNames)", () => {
    const toolStarts = (events: AnthropicStreamEvent[]) =>
      events.flatMap((event) =>
        event.type === 'content_block_start' && event.content_block.type === 'tool_use'
          ? [`${event.index} ${event.content_block.id} ${event.content_block.name}`]
          : [],
      );
    const inputs = (events: AnthropicStreamEvent[]) =>
      events.flatMap((event) =>
        event.type === 'content_block_delta' && event.delta.type === 'input_json_delta'
          ? [`${event.index} ${event.delta.partial_json}`]
          : [],
      );

    it("starts the tool_use block at the call's first delta: the edge holds no name back", () => {
      // The edge holds no start: a name sent in pieces, or one a longer tool begins with,
      // is whole by the time it gets here (the provider held it), so it starts at once.
      const translator = new MessageStreamTranslator(
        { model: 'claude-virtual', stream: true, stopSequences: [] },
        'req-1',
      );
      translator.push(chunk({ role: 'assistant' }));
      const events = translator.push(
        chunk({
          tool_calls: [
            { index: 0, id: 'call_r', type: 'function', function: { name: 'Read', arguments: '' } },
          ],
        }),
      );
      assert.deepEqual(toolStarts(events), ['0 call_r Read']);
    });

    /**
     * Blocks one after another, as Anthropic streams them: each starts when none is open,
     * and every delta and the stop are the open block's. A client reads a block's input as
     * done at its stop (the Vercel AI SDK drops any that comes after).
     */
    const assertBlocksInTurn = (events: AnthropicStreamEvent[]) => {
      let open: number | undefined;
      for (const event of events) {
        if (event.type === 'content_block_start') {
          assert.equal(open, undefined, `block ${event.index} starts while ${open} is open`);
          open = event.index;
        } else if (event.type === 'content_block_delta') {
          assert.equal(event.index, open, `a delta for block ${event.index} while ${open} is open`);
        } else if (event.type === 'content_block_stop') {
          assert.equal(event.index, open);
          open = undefined;
        }
      }
    };
    const piece = (index: number, args: string, start?: { id: string; name: string }) =>
      chunk({
        tool_calls: [
          start
            ? {
                index,
                id: start.id,
                type: 'function',
                function: { name: start.name, arguments: args },
              }
            : { index, function: { arguments: args } },
        ],
      });

    it('holds a call that begins while the streaming call is not whole, until it is', () => {
      const events = run([
        piece(0, '', { id: 'call_a', name: 'weather' }),
        piece(1, '{"tz":', { id: 'call_b', name: 'time' }),
        piece(0, '{"city":"Paris"}'),
        piece(1, '"UTC"}'),
        chunk({}, 'tool_calls'),
      ]);
      assertBlocksInTurn(events);
      assert.deepEqual(toolStarts(events), ['0 call_a weather', '1 call_b time']);
      assert.deepEqual(inputs(events), ['0 {"city":"Paris"}', '1 {"tz":', '1 "UTC"}']);
      const last = events.at(-2);
      assert.equal(last?.type === 'message_delta' && last.delta.stop_reason, 'tool_use');
    });

    it('gives three interleaved calls each its whole input on its own block, in the order they began', () => {
      const events = run([
        piece(0, '{"a":', { id: 'call_a', name: 'one' }),
        piece(1, '{"b":', { id: 'call_b', name: 'two' }),
        piece(2, '{"c":', { id: 'call_c', name: 'three' }),
        piece(1, '2'),
        piece(0, '1}'),
        // call_b streams on from what it gathered; call_c waits behind it.
        piece(2, '3}'),
        piece(1, '}'),
        chunk({}, 'tool_calls'),
      ]);
      assertBlocksInTurn(events);
      assert.deepEqual(toolStarts(events), ['0 call_a one', '1 call_b two', '2 call_c three']);
      const inputOf = (block: number) =>
        inputs(events)
          .filter((line) => line.startsWith(`${block} `))
          .map((line) => line.slice(2))
          .join('');
      assert.deepEqual([0, 1, 2].map(inputOf), ['{"a":1}', '{"b":2}', '{"c":3}']);
    });

    it('starts the held calls at the finish, and before text that follows', () => {
      const cut = run([
        piece(0, '{"a":', { id: 'call_a', name: 'one' }),
        piece(1, '{"b":1}', { id: 'call_b', name: 'two' }),
        chunk({}, 'length'),
      ]);
      assertBlocksInTurn(cut);
      assert.deepEqual(toolStarts(cut), ['0 call_a one', '1 call_b two']);
      assert.deepEqual(inputs(cut), ['0 {"a":', '1 {"b":1}']);
      const texted = run([
        piece(0, '{"a":', { id: 'call_a', name: 'one' }),
        piece(1, '{"b":1}', { id: 'call_b', name: 'two' }),
        chunk({ content: 'Done.' }),
        chunk({}, 'tool_calls'),
      ]);
      assertBlocksInTurn(texted);
      assert.deepEqual(
        texted.flatMap((event) =>
          event.type === 'content_block_start' ? [event.content_block.type] : [],
        ),
        ['tool_use', 'tool_use', 'text'],
      );
    });

    it('streams calls sent one after another as they come', () => {
      const translator = new MessageStreamTranslator(
        { model: 'claude-virtual', stream: true, stopSequences: [] },
        'req-1',
      );
      translator.push(chunk({ role: 'assistant' }));
      assert.deepEqual(inputs(translator.push(piece(0, '{"a":', { id: 'call_a', name: 'one' }))), [
        '0 {"a":',
      ]);
      assert.deepEqual(inputs(translator.push(piece(0, '1}'))), ['0 1}']);
      const second = translator.push(piece(1, '{"b":', { id: 'call_b', name: 'two' }));
      assert.deepEqual(toolStarts(second), ['1 call_b two']);
      assert.deepEqual(inputs(second), ['1 {"b":']);
    });
  });

  it('streams reasoning, its signature and a redacted block before text and a tool call', () => {
    const events = run([
      chunk({ role: 'assistant', reasoning_content: 'The user wants ' }),
      chunk({ reasoning_content: 'the weather.' }),
      chunk({
        thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'EqQBCgIYAhIM1gbcDa9G' }],
      }),
      chunk({ thinking_blocks: [{ type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' }] }),
      chunk({ content: 'Checking.' }),
      chunk({
        tool_calls: [
          {
            index: 0,
            id: 'toolu_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      }),
      chunk({}, 'tool_calls'),
    ]);
    assert.deepEqual(events.slice(1, -2), [
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'thinking_delta', thinking: 'The user wants ' },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'thinking_delta', thinking: 'the weather.' },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9G' },
      },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
      },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } },
      {
        type: 'content_block_delta',
        index: 2,
        delta: { type: 'text_delta', text: 'Checking.' },
      },
      { type: 'content_block_stop', index: 2 },
      {
        type: 'content_block_start',
        index: 3,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 3,
        delta: { type: 'input_json_delta', partial_json: '{"city":"Paris"}' },
      },
      { type: 'content_block_stop', index: 3 },
    ]);
    assert.deepEqual(
      events.map((event) => event.type).filter((type) => type.startsWith('message')),
      ['message_start', 'message_delta', 'message_stop'],
    );
  });

  it('closes unsigned reasoning when text begins, and opens a block for a lone signature', () => {
    // A backend that reasons without signing (Gemini, DeepSeek): the text closes the block.
    // vLLM, Groq, Ollama and OpenRouter stream it as `reasoning`.
    const unsigned = run([
      chunk({ reasoning: 'Easy.' }),
      chunk({ content: '4' }),
      chunk({}, 'stop'),
    ]);
    assert.deepEqual(unsigned.slice(1, -2), [
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'thinking_delta', thinking: 'Easy.' },
      },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: '4' } },
      { type: 'content_block_stop', index: 1 },
    ]);

    // A signature with no reasoning text before it still gets a thinking block to sign;
    // an entry without a signature (text LiteLLM repeats beside reasoning_content) adds nothing.
    const lone = run([
      chunk({ reasoning_content: 'a', thinking_blocks: [{ type: 'thinking', thinking: 'a' }] }),
      chunk({ content: 'b' }),
      chunk({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig' }] }),
    ]);
    assert.deepEqual(
      lone.slice(1, -2).map((event) => {
        switch (event.type) {
          case 'content_block_delta':
            return `delta ${event.index} ${event.delta.type}`;
          case 'content_block_start':
          case 'content_block_stop':
            return `${event.type} ${event.index}`;
          default:
            return event.type;
        }
      }),
      [
        'content_block_start 0',
        'delta 0 thinking_delta',
        'content_block_stop 0',
        'content_block_start 1',
        'delta 1 text_delta',
        'content_block_stop 1',
        'content_block_start 2',
        'delta 2 signature_delta',
        'content_block_stop 2',
      ],
    );
  });

  it('maps length and a named stop sequence', () => {
    const long = run([chunk({ content: 'a' }), chunk({}, 'length')]);
    const delta = long.find((event) => event.type === 'message_delta');
    assert.equal(delta?.type === 'message_delta' && delta.delta.stop_reason, 'max_tokens');

    const stopped = run(
      [
        chunk({ content: 'a' }),
        {
          ...chunk({}, 'stop'),
          choices: [{ index: 0, delta: {}, finish_reason: 'stop', stop_reason: 'END' }],
        },
      ],
      ['END'],
    );
    const stopDelta = stopped.find((event) => event.type === 'message_delta');
    assert.deepEqual(stopDelta?.type === 'message_delta' && stopDelta.delta, {
      stop_reason: 'stop_sequence',
      stop_sequence: 'END',
    });
  });

  it('ends a turn that called tools with tool_use when the backend said stop', () => {
    // OpenAI says "stop" for a call the request named in tool_choice (Anthropic's
    // {type: 'tool'}), as do several OpenAI-compatible servers for any call; Anthropic's
    // clients run the tools on stop_reason tool_use.
    const events = run([
      chunk({
        tool_calls: [{ index: 0, id: 'c1', function: { name: 'get_weather', arguments: '{}' } }],
      }),
      chunk({}, 'stop'),
    ]);
    const delta = events.find((event) => event.type === 'message_delta');
    assert.deepEqual(delta?.type === 'message_delta' && delta.delta, {
      stop_reason: 'tool_use',
      stop_sequence: null,
    });
  });

  it('ends a turn with end_turn when the backend said tool_calls but streamed no call', () => {
    const events = run([chunk({ content: 'Hello!' }), chunk({}, 'tool_calls')]);
    assert.deepEqual(
      events.flatMap((event) =>
        event.type === 'content_block_start' ? [event.content_block.type] : [],
      ),
      ['text'],
    );
    const delta = events.find((event) => event.type === 'message_delta');
    assert.equal(delta?.type === 'message_delta' && delta.delta.stop_reason, 'end_turn');
  });

  it("streams a backend's refusal as text_delta and ends with stop_reason refusal", () => {
    const events = run([
      chunk({ role: 'assistant', content: null, refusal: '' }),
      chunk({ refusal: "I can't" }),
      chunk({ refusal: ' help with that.' }),
      chunk({}, 'stop'),
    ]);
    assert.deepEqual(events.slice(1, 5), [
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: "I can't" } },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: ' help with that.' },
      },
      { type: 'content_block_stop', index: 0 },
    ]);
    const delta = events.find((event) => event.type === 'message_delta');
    assert.deepEqual(delta?.type === 'message_delta' && delta.delta, {
      stop_reason: 'refusal',
      stop_sequence: null,
    });
  });

  it('still opens and closes a message with a text block when no content came', () => {
    const events = run([]);
    assert.deepEqual(
      events.map((event) => event.type),
      [
        'message_start',
        'content_block_start',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
  });
});
