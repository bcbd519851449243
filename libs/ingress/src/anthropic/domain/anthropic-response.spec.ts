import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode, type TokenUsage } from '@aigw/contracts/data-plane';
import type { MessagesRequestFacts } from './anthropic-request';
import { anthropicStop, anthropicUsageOf, toAnthropicMessage } from './anthropic-response';

const facts: MessagesRequestFacts = { model: 'claude-virtual', stream: false, stopSequences: [] };
const usage: TokenUsage = {
  inputTokens: 120,
  outputTokens: 30,
  cachedInputTokens: 100,
  source: 'reported',
};

function completion(message: Record<string, unknown>, finish_reason: string) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'claude-virtual',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason }],
  };
}

describe('OpenAI chat answer to Anthropic message', () => {
  it("names the tier the backend served at in usage.service_tier, Anthropic's names only", () => {
    const tierOf = (service_tier: string) =>
      toAnthropicMessage(
        { ...completion({ content: 'Hi' }, 'stop'), service_tier },
        usage,
        facts,
        'r',
      ).usage.service_tier;
    assert.equal(tierOf('default'), 'standard');
    assert.equal(tierOf('priority'), 'priority');
    assert.equal(tierOf('flex'), undefined);
  });

  it('answers text with end_turn, the requested model and Anthropic usage', () => {
    const message = toAnthropicMessage(
      completion({ content: 'Hi there' }, 'stop'),
      usage,
      facts,
      'req-1',
    );
    assert.deepEqual(message, {
      id: 'msg_chatcmpl-1',
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'Hi there' }],
      model: 'claude-virtual',
      stop_reason: 'end_turn',
      stop_sequence: null,
      // Anthropic's input_tokens leaves out the cache reads that prompt_tokens includes.
      usage: {
        input_tokens: 20,
        output_tokens: 30,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 100,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      },
    });
  });

  it('turns tool_calls into tool_use blocks after the text, with stop_reason tool_use', () => {
    const message = toAnthropicMessage(
      completion(
        {
          content: 'Let me check.',
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            { id: 'call_2', type: 'function', function: { name: 'now', arguments: '' } },
          ],
        },
        'tool_calls',
      ),
      usage,
      facts,
      'req-1',
    );
    assert.deepEqual(message.content, [
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_2', name: 'now', input: {} },
    ]);
    assert.equal(message.stop_reason, 'tool_use');
  });

  it('puts signed and redacted reasoning blocks first, as they came, before text and tool_use', () => {
    const message = toAnthropicMessage(
      completion(
        {
          content: 'Let me check.',
          // The joined text too, as canonical answers carry it: the blocks take precedence.
          reasoning_content: 'The user wants the weather.',
          thinking_blocks: [
            {
              type: 'thinking',
              thinking: 'The user wants the weather.',
              signature: 'EqQBCgIYAhIM1gbcDa9GJwZA',
            },
            { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
          ],
          tool_calls: [
            {
              id: 'toolu_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        'tool_calls',
      ),
      usage,
      facts,
      'req-1',
    );
    assert.deepEqual(message.content, [
      {
        type: 'thinking',
        thinking: 'The user wants the weather.',
        signature: 'EqQBCgIYAhIM1gbcDa9GJwZA',
      },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
    ]);
  });

  it('shows unsigned reasoning_content as one thinking block with an empty signature', () => {
    const message = toAnthropicMessage(
      completion({ content: '4', reasoning_content: '2+2 is 4.' }, 'stop'),
      usage,
      facts,
      'req-1',
    );
    assert.deepEqual(message.content, [
      { type: 'thinking', thinking: '2+2 is 4.', signature: '' },
      { type: 'text', text: '4' },
    ]);
    // No reasoning, or an empty one, adds no block.
    const plain = toAnthropicMessage(
      completion({ content: '4', reasoning_content: '' }, 'stop'),
      usage,
      facts,
      'req-1',
    );
    assert.deepEqual(plain.content, [{ type: 'text', text: '4' }]);
    // vLLM, Groq, Ollama and OpenRouter name it `reasoning`.
    const vllm = toAnthropicMessage(
      completion({ content: '4', reasoning: '2+2 is 4.' }, 'stop'),
      usage,
      facts,
      'req-1',
    );
    assert.deepEqual(vllm.content[0], { type: 'thinking', thinking: '2+2 is 4.', signature: '' });
  });

  it('answers a turn that called tools with tool_use when the backend said stop', () => {
    // OpenAI says "stop" for a call the request named in tool_choice (Anthropic's
    // {type: 'tool'}), as do several OpenAI-compatible servers for any call.
    const message = toAnthropicMessage(
      completion(
        { content: null, tool_calls: [{ id: 'c1', function: { name: 'f', arguments: '{}' } }] },
        'stop',
      ),
      usage,
      facts,
      'r',
    );
    assert.equal(message.stop_reason, 'tool_use');
    assert.equal(message.stop_sequence, null);
    // A stop sequence the backend names still says where it stopped.
    const withStops = { ...facts, stopSequences: ['END'] };
    assert.deepEqual(anthropicStop('stop', 'END', withStops, false, true), {
      stop_reason: 'stop_sequence',
      stop_sequence: 'END',
    });
  });

  it('ends a turn with end_turn when the backend said tool_calls but called none', () => {
    // vLLM under tool_choice "required" when no call parsed, lmdeploy whenever tools are
    // on: an agent loop would look for tool_use blocks to run and find none.
    const message = toAnthropicMessage(
      completion({ content: 'Hello! How can I help?', tool_calls: [] }, 'tool_calls'),
      usage,
      facts,
      'r',
    );
    assert.deepEqual(message.content, [{ type: 'text', text: 'Hello! How can I help?' }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(anthropicStop('function_call', undefined, facts).stop_reason, 'end_turn');
  });

  it('keeps a text block in an empty answer', () => {
    const message = toAnthropicMessage(completion({ content: null }, 'length'), usage, facts, 'r');
    assert.deepEqual(message.content, [{ type: 'text', text: '' }]);
    assert.equal(message.stop_reason, 'max_tokens');
  });

  it('maps each finish_reason to a stop_reason', () => {
    const withStops: MessagesRequestFacts = { ...facts, stopSequences: ['END'] };
    assert.deepEqual(anthropicStop('stop', undefined, facts), {
      stop_reason: 'end_turn',
      stop_sequence: null,
    });
    assert.equal(anthropicStop('length', undefined, facts).stop_reason, 'max_tokens');
    // An Anthropic backend's newer models name a full context window apart from max_tokens.
    assert.deepEqual(anthropicStop('length', 'model_context_window_exceeded', facts), {
      stop_reason: 'model_context_window_exceeded',
      stop_sequence: null,
    });
    assert.equal(
      anthropicStop('tool_calls', undefined, facts, false, true).stop_reason,
      'tool_use',
    );
    assert.equal(
      anthropicStop('function_call', undefined, facts, false, true).stop_reason,
      'tool_use',
    );
    assert.equal(anthropicStop('content_filter', undefined, facts).stop_reason, 'refusal');
    assert.equal(anthropicStop(null, undefined, facts).stop_reason, 'end_turn');
    // A backend that names the stop string it hit (vLLM) gives us stop_sequence.
    assert.deepEqual(anthropicStop('stop', 'END', withStops), {
      stop_reason: 'stop_sequence',
      stop_sequence: 'END',
    });
    assert.equal(anthropicStop('stop', 'OTHER', withStops).stop_reason, 'end_turn');
  });

  it('reports the prompt-cache writes apart, as Anthropic does, out of input_tokens', () => {
    assert.deepEqual(
      anthropicUsageOf({
        inputTokens: 1_325,
        outputTokens: 9,
        cachedInputTokens: 100,
        cacheWriteInputTokens: 1_200,
        source: 'reported',
      }),
      {
        input_tokens: 25,
        output_tokens: 9,
        cache_creation_input_tokens: 1_200,
        cache_read_input_tokens: 100,
        cache_creation: { ephemeral_5m_input_tokens: 1_200, ephemeral_1h_input_tokens: 0 },
      },
    );
  });

  it('splits the writes by lifetime: the 1-hour ones are a part of all of them', () => {
    const written: TokenUsage = {
      inputTokens: 1_325,
      outputTokens: 9,
      cachedInputTokens: 100,
      cacheWriteInputTokens: 1_200,
      cacheWrite1hInputTokens: 500,
      source: 'reported',
    };
    const reported = anthropicUsageOf(written);
    assert.equal(reported.cache_creation_input_tokens, 1_200);
    assert.deepEqual(reported.cache_creation, {
      ephemeral_5m_input_tokens: 700,
      ephemeral_1h_input_tokens: 500,
    });
    // A breakdown larger than the writes never makes the 5-minute count negative.
    assert.deepEqual(
      anthropicUsageOf({ ...written, cacheWrite1hInputTokens: 5_000 }).cache_creation,
      {
        ephemeral_5m_input_tokens: 0,
        ephemeral_1h_input_tokens: 1_200,
      },
    );
  });

  it('reports estimated usage the same way, never negative', () => {
    assert.deepEqual(
      anthropicUsageOf({
        inputTokens: 3,
        outputTokens: 4,
        cachedInputTokens: 0,
        source: 'estimated',
      }),
      {
        input_tokens: 3,
        output_tokens: 4,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      },
    );
  });

  it("answers a backend's refusal (content null, refusal set) as its text with stop_reason refusal", () => {
    const message = toAnthropicMessage(
      completion({ content: null, refusal: "I can't help with that." }, 'stop'),
      usage,
      facts,
      'req-1',
    );
    assert.deepEqual(message.content, [{ type: 'text', text: "I can't help with that." }]);
    assert.equal(message.stop_reason, 'refusal');
    assert.equal(message.stop_sequence, null);
  });

  it('rejects an answer without a choice or with tool arguments that are not an object', () => {
    const bad = (error: unknown) =>
      error instanceof DataPlaneError && error.code === DataPlaneErrorCode.UpstreamBadResponse;
    assert.throws(() => toAnthropicMessage({ id: 'x', choices: [] }, usage, facts, 'r'), bad);
    assert.throws(
      () =>
        toAnthropicMessage(
          completion(
            {
              content: null,
              tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{"a":' } }],
            },
            'tool_calls',
          ),
          usage,
          facts,
          'r',
        ),
      bad,
    );
  });

  it("answers a tool call the token limit cut off as max_tokens with the call's input empty, not a 502", () => {
    // A JSON client's SDK retries a 502 (twice by default), each retry billed and cut the
    // same way; Anthropic answers the cut call with stop_reason max_tokens, as a stream does.
    const calls = [
      { id: 'c1', function: { name: 'f', arguments: '{"a":1}' } },
      { id: 'c2', function: { name: 'g', arguments: '{"city": "Par' } },
    ];
    const cut = (finish_reason: string, stop_reason?: string) =>
      toAnthropicMessage(
        {
          id: 'chatcmpl-1',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'Checking.', tool_calls: calls },
              finish_reason,
              ...(stop_reason ? { stop_reason } : {}),
            },
          ],
        },
        usage,
        facts,
        'r',
      );
    const message = cut('length');
    assert.equal(message.stop_reason, 'max_tokens');
    assert.deepEqual(message.content, [
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'c1', name: 'f', input: { a: 1 } },
      { type: 'tool_use', id: 'c2', name: 'g', input: {} },
    ]);
    const overflow = cut('length', 'model_context_window_exceeded');
    assert.equal(overflow.stop_reason, 'model_context_window_exceeded');
    assert.deepEqual(overflow.content.at(-1), { type: 'tool_use', id: 'c2', name: 'g', input: {} });
  });
});
