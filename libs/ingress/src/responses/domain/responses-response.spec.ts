import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type ThinkingBlock,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { decodeReasoning, encodeReasoning } from './encrypted-reasoning';
import { responsesFacts, translateResponsesRequest } from './responses-request';
import { responseError, responseId, toResponse, type ResponseContext } from './responses-response';

const usage: TokenUsage = {
  inputTokens: 40,
  outputTokens: 25,
  cachedInputTokens: 16,
  source: 'reported',
};

const context: ResponseContext = {
  facts: responsesFacts({ model: 'gpt-virtual', input: 'x', instructions: 'Be brief.' }),
  model: 'gpt-virtual',
  requestId: 'req-1',
  createdAt: 1_750_000_000,
};

/** The same request, asking for reasoning it can send back (as Codex and the Agents SDK do). */
const withEncrypted: ResponseContext = {
  ...context,
  facts: responsesFacts({
    model: 'gpt-virtual',
    input: 'x',
    include: ['reasoning.encrypted_content'],
  }),
};

// Shaped as Anthropic's thinking blocks reach the gateway, in the canonical thinking_blocks.
const SIGNED: ThinkingBlock = {
  type: 'thinking',
  thinking: 'The user wants weather.',
  signature: 'EqQBCkgIBxABGAIqQKz8a1y3sF0+9mQ/5c2d7/eHx0p4WmH1yJb2kLqS3tV9uR==',
};
const REDACTED: ThinkingBlock = {
  type: 'redacted_thinking',
  data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2Y==',
};

const WEATHER_CALL = {
  id: 'toolu_01A',
  type: 'function',
  function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
};

function completion(
  message: JsonObject,
  finish_reason = 'stop',
  extra: JsonObject = {},
): JsonObject {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'upstream-model',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason }],
    ...extra,
  };
}

describe('OpenAI chat answer to a Response object', () => {
  it('names the tier the backend served it at, as OpenAI does; no tier when it names none', () => {
    const served = toResponse(
      completion({ content: 'Hi.' }, 'stop', { service_tier: 'flex' }),
      usage,
      context,
    );
    assert.equal(served.service_tier, 'flex');
    const unnamed = toResponse(completion({ content: 'Hi.' }), usage, context);
    assert.equal('service_tier' in unnamed, false);
  });

  it('answers text as one message item, with usage and the echoed settings', () => {
    const response = toResponse(completion({ content: 'Hello there.' }), usage, context);
    assert.deepEqual(response, {
      id: 'resp_req1',
      object: 'response',
      created_at: 1_750_000_000,
      status: 'completed',
      error: null,
      incomplete_details: null,
      instructions: 'Be brief.',
      max_output_tokens: null,
      model: 'gpt-virtual',
      output: [
        {
          type: 'message',
          id: 'msg_req1_0',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'Hello there.', annotations: [] }],
        },
      ],
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: { effort: null, summary: null },
      store: false,
      temperature: null,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [],
      top_p: null,
      truncation: 'disabled',
      usage: {
        input_tokens: 40,
        input_tokens_details: { cached_tokens: 16 },
        output_tokens: 25,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 65,
      },
      user: null,
      metadata: {},
    });
  });

  it('reads the reasoning a backend names `reasoning` (vLLM, Groq, Ollama) as the summary', () => {
    const response = toResponse(
      completion({ content: '4', reasoning: '2+2 is 4.' }, 'stop'),
      usage,
      context,
    );
    assert.deepEqual(response.output[0], {
      type: 'reasoning',
      id: 'rs_req1_0',
      summary: [{ type: 'summary_text', text: '2+2 is 4.' }],
    });
  });

  it('puts reasoning first as a summary, then the text, then one function_call per tool call', () => {
    const response = toResponse(
      completion(
        {
          content: 'Let me check.',
          reasoning_content: 'The user wants weather.',
          tool_calls: [
            {
              id: 'call_a',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            { type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        'tool_calls',
        { usage: { completion_tokens_details: { reasoning_tokens: 9 } } },
      ),
      usage,
      context,
    );
    assert.equal(response.status, 'completed');
    assert.deepEqual(response.output, [
      {
        type: 'reasoning',
        id: 'rs_req1_0',
        summary: [{ type: 'summary_text', text: 'The user wants weather.' }],
      },
      {
        type: 'message',
        id: 'msg_req1_1',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: 'Let me check.', annotations: [] }],
      },
      {
        type: 'function_call',
        id: 'fc_req1_2',
        call_id: 'call_a',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
        status: 'completed',
      },
      {
        type: 'function_call',
        id: 'fc_req1_3',
        call_id: 'call_req1_3',
        name: 'get_time',
        arguments: '{}',
        status: 'completed',
      },
    ]);
    assert.deepEqual(response.usage?.output_tokens_details, { reasoning_tokens: 9 });
  });

  it('gives the reasoning item its thinking blocks as encrypted_content when include asks for them', () => {
    const answer = completion(
      {
        content: 'Let me check.',
        reasoning_content: SIGNED.thinking,
        thinking_blocks: [SIGNED, REDACTED],
        tool_calls: [WEATHER_CALL],
      },
      'tool_calls',
    );
    const response = toResponse(answer, usage, withEncrypted);
    assert.deepEqual(response.output[0], {
      type: 'reasoning',
      id: 'rs_req1_0',
      summary: [{ type: 'summary_text', text: SIGNED.thinking }],
      encrypted_content: encodeReasoning([SIGNED, REDACTED]),
    });
    const item = response.output[0];
    assert.ok(item?.type === 'reasoning' && item.encrypted_content);
    assert.deepEqual(decodeReasoning(item.encrypted_content), [SIGNED, REDACTED]);
    // Not asked for, the item is as before: its summary alone.
    assert.deepEqual(toResponse(answer, usage, context).output[0], {
      type: 'reasoning',
      id: 'rs_req1_0',
      summary: [{ type: 'summary_text', text: SIGNED.thinking }],
    });
  });

  it('answers redacted reasoning alone with a reasoning item that has no summary', () => {
    const response = toResponse(
      completion({ content: 'Hi.', thinking_blocks: [REDACTED, { type: 'thinking' }] }),
      usage,
      withEncrypted,
    );
    assert.deepEqual(response.output[0], {
      type: 'reasoning',
      id: 'rs_req1_0',
      summary: [],
      encrypted_content: encodeReasoning([REDACTED]),
    });
    assert.deepEqual(
      toResponse(
        completion({ content: 'Hi.', thinking_blocks: [REDACTED] }),
        usage,
        context,
      ).output.map((item) => item.type),
      ['message'],
    );
  });

  it('round-trips: the output sent back as input gives the assistant turn its blocks', () => {
    const answer = completion(
      {
        content: null,
        reasoning_content: SIGNED.thinking,
        thinking_blocks: [SIGNED],
        tool_calls: [WEATHER_CALL],
      },
      'tool_calls',
    );
    const { output } = toResponse(answer, usage, withEncrypted);
    const next = translateResponsesRequest({
      model: 'gpt-virtual',
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        ...JSON.parse(JSON.stringify(output)),
        { type: 'function_call_output', call_id: 'toolu_01A', output: '18C' },
      ],
    });
    assert.deepEqual((next.chat.messages as JsonObject[])[1], {
      role: 'assistant',
      content: null,
      tool_calls: [WEATHER_CALL],
      thinking_blocks: [SIGNED],
    });
  });

  it('gives DeepSeek its reasoning back: the item carries the text as reasoning_text, and as an unsigned block when asked or stored', () => {
    // DeepSeek's thinking mode refuses a tool-call turn that comes back without its
    // reasoning_content, and answers with the text alone (no blocks).
    const answer = completion(
      { content: null, reasoning_content: 'I need the weather tool.', tool_calls: [WEATHER_CALL] },
      'tool_calls',
    );
    const summary = [{ type: 'summary_text', text: 'I need the weather tool.' }];
    const content = [{ type: 'reasoning_text', text: 'I need the weather tool.' }];
    const unsigned: ThinkingBlock = {
      type: 'thinking',
      thinking: 'I need the weather tool.',
      signature: '',
    };
    const deepSeek = { ...context, reasoningTextBack: true };
    assert.deepEqual(toResponse(answer, usage, deepSeek).output[0], {
      type: 'reasoning',
      id: 'rs_req1_0',
      summary,
      content,
    });
    // Asked for (Codex, which sends reasoning_text parts back not at all) or stored.
    for (const on of [
      { ...withEncrypted, reasoningTextBack: true },
      { ...deepSeek, store: true },
    ]) {
      assert.deepEqual(toResponse(answer, usage, on).output[0], {
        type: 'reasoning',
        id: 'rs_req1_0',
        summary,
        content,
        encrypted_content: encodeReasoning([unsigned]),
      });
    }
    // Signed blocks are the ones kept; the text still comes as content.
    const signed = completion(
      { reasoning_content: SIGNED.thinking, thinking_blocks: [SIGNED], tool_calls: [WEATHER_CALL] },
      'tool_calls',
    );
    const item = toResponse(signed, usage, { ...withEncrypted, reasoningTextBack: true }).output[0];
    assert.ok(item?.type === 'reasoning' && item.encrypted_content);
    assert.deepEqual(decodeReasoning(item.encrypted_content), [SIGNED]);
    // Other backends: the summary alone, as before, asked for, stored or not.
    for (const on of [context, withEncrypted, { ...context, store: true }]) {
      assert.deepEqual(toResponse(answer, usage, on).output[0], {
        type: 'reasoning',
        id: 'rs_req1_0',
        summary,
      });
    }
  });

  it("round-trips DeepSeek's reasoning: the echoed item gives the tool-call turn its text, from content or encrypted_content", () => {
    const answer = completion(
      { content: null, reasoning_content: 'I need the weather tool.', tool_calls: [WEATHER_CALL] },
      'tool_calls',
    );
    const next = (output: unknown[]) =>
      (
        translateResponsesRequest({
          model: 'gpt-virtual',
          input: [
            { role: 'user', content: 'Weather in Paris?' },
            ...(JSON.parse(JSON.stringify(output)) as unknown[]),
            { type: 'function_call_output', call_id: 'toolu_01A', output: '18C' },
          ],
        }).chat.messages as JsonObject[]
      )[1];
    // The openai SDKs and the Agents SDK send the item back as it came: its content.
    const plain = toResponse(answer, usage, { ...context, reasoningTextBack: true }).output;
    assert.deepEqual(next([...plain]), {
      role: 'assistant',
      content: null,
      tool_calls: [WEATHER_CALL],
      reasoning_content: 'I need the weather tool.',
    });
    // Codex asks for encrypted_content and sends the item back without its content.
    const asked = toResponse(answer, usage, { ...withEncrypted, reasoningTextBack: true }).output;
    const codex = asked.map((item) => {
      if (item.type !== 'reasoning') return item;
      const { content: _text, id: _id, ...rest } = item;
      return rest;
    });
    assert.deepEqual(next(codex), {
      role: 'assistant',
      content: null,
      tool_calls: [WEATHER_CALL],
      thinking_blocks: [{ type: 'thinking', thinking: 'I need the weather tool.', signature: '' }],
    });
    // Both at once: the blocks hold the text, which comes once.
    assert.deepEqual(Object.keys(next([...asked]) ?? {}), [
      'role',
      'content',
      'tool_calls',
      'thinking_blocks',
    ]);
  });

  it('answers a turn of tool calls alone without a message item', () => {
    const response = toResponse(
      completion(
        {
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } },
          ],
        },
        'tool_calls',
      ),
      usage,
      context,
    );
    assert.deepEqual(
      response.output.map((item) => item.type),
      ['function_call'],
    );
  });

  it('reports an answer cut by the token limit as incomplete', () => {
    const response = toResponse(completion({ content: 'Once upon a' }, 'length'), usage, context);
    assert.equal(response.status, 'incomplete');
    assert.deepEqual(response.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(response.output[0]?.type === 'message' && response.output[0].status, 'incomplete');
    const filtered = toResponse(completion({ content: '' }, 'content_filter'), usage, context);
    assert.deepEqual(filtered.incomplete_details, { reason: 'content_filter' });
  });

  it('marks the item the token limit cut as incomplete: the last tool call, not the text before it', () => {
    const cut = { ...WEATHER_CALL, function: { name: 'get_weather', arguments: '{"ci' } };
    const response = toResponse(
      completion({ content: 'Let me check.', tool_calls: [WEATHER_CALL, cut] }, 'length'),
      usage,
      context,
    );
    assert.equal(response.status, 'incomplete');
    assert.deepEqual(
      response.output.map((item) => [item.type, 'status' in item && item.status]),
      [
        ['message', 'completed'],
        ['function_call', 'completed'],
        ['function_call', 'incomplete'],
      ],
    );
  });

  it('still answers an empty answer with an empty message', () => {
    const response = toResponse(completion({ content: '' }), usage, context);
    assert.deepEqual(response.output, [
      {
        type: 'message',
        id: 'msg_req1_0',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: '', annotations: [] }],
      },
    ]);
  });

  it("answers a model's refusal as a refusal part, not an empty text (structured outputs)", () => {
    const refusal = "I'm sorry, I can't help with that.";
    const response = toResponse(completion({ content: null, refusal }), usage, context);
    assert.deepEqual(response.output, [
      {
        type: 'message',
        id: 'msg_req1_0',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'refusal', refusal }],
      },
    ]);
  });

  it('refuses an answer without a choice as a bad backend answer', () => {
    assert.throws(
      () => toResponse({ id: 'x', choices: [] }, usage, context),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.UpstreamBadResponse,
    );
  });

  it('builds ids from the request id and names a failure with the codes OpenAI uses', () => {
    assert.equal(responseId('3f2a-77b0'), 'resp_3f2a77b0');
    const limited = new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, 'slow down');
    assert.deepEqual(responseError(limited), { code: 'rate_limit_exceeded', message: 'slow down' });
    const broken = new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, 'cut');
    assert.deepEqual(responseError(broken), { code: 'server_error', message: 'cut' });
  });

  it('answers a custom tool call (chat type custom) as a custom_tool_call item with its input', () => {
    const response = toResponse(
      completion(
        {
          content: null,
          tool_calls: [
            WEATHER_CALL,
            {
              id: 'call_patch',
              type: 'custom',
              custom: { name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' },
            },
          ],
        },
        'tool_calls',
      ),
      usage,
      context,
    );
    assert.deepEqual(response.output, [
      {
        type: 'function_call',
        id: 'fc_req1_0',
        call_id: 'toolu_01A',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
        status: 'completed',
      },
      {
        type: 'custom_tool_call',
        id: 'ctc_req1_1',
        call_id: 'call_patch',
        name: 'apply_patch',
        input: '*** Begin Patch\n*** End Patch',
        status: 'completed',
      },
    ]);
  });
});
