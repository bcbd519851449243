import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import { withoutGatewayExtensions } from './openai-extensions';

const ephemeral = { type: 'ephemeral' };

describe('withoutGatewayExtensions', () => {
  it('leaves a body without extensions as the very same object, reasoning_effort and all', () => {
    const body = {
      reasoning_effort: 'high',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'be brief' }] },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', content: 'hello', tool_calls: [] },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
    };
    assert.equal(withoutGatewayExtensions(body), body);
  });

  it('drops the caching mark of a tool call, keeping the call', () => {
    const call = { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } };
    const body = {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null, tool_calls: [{ ...call, cache_control: ephemeral }] },
      ],
    };
    assert.deepEqual(withoutGatewayExtensions(body), {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null, tool_calls: [call] },
      ],
    });
  });

  it('refuses a PDF by URL (the gateway never fetches it), naming where it is', () => {
    const body = {
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Summarise' },
            { type: 'file', file: { file_url: 'https://example.com/a.pdf' } },
          ],
        },
      ],
    };
    assert.throws(
      () => withoutGatewayExtensions(body),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'messages[1].content[1].file.file_url' &&
        /cannot take a PDF document by URL/.test(error.message),
    );
  });

  it('refuses a file another backend holds (a Gemini file), naming its holder, never sending its URI', () => {
    const body = {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe it' },
            {
              type: 'file',
              file: {
                file_id: 'https://generativelanguage.googleapis.com/v1beta/files/secret-uri',
                mime_type: 'image/png',
                held_by: { route: 'mixed', backend: 'gemini-a' },
              },
            },
          ],
        },
      ],
    };
    assert.throws(
      () => withoutGatewayExtensions(body, {}, 'openai-b'),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 503 &&
        /held by backend "gemini-a"/.test(error.message) &&
        /chose "openai-b"/.test(error.message) &&
        !error.message.includes('secret-uri'),
    );
  });

  it("takes a client's own held_by (no file_id, as only the gateway writes) for no held file: no 503 naming this backend", () => {
    // The OpenAI chat edge passes a client's file part on as written; only a part with the
    // holder's URI (file_id) beside held_by is the gateway's, as the router's pin reads it.
    const part = {
      type: 'file',
      file: {
        file_data: 'data:application/pdf;base64,JVBERi0xLjQ=',
        held_by: { route: 'mixed', backend: 'gemini-a' },
      },
    };
    const body = { messages: [{ role: 'user', content: [part] }] };
    const sent = withoutGatewayExtensions(body, {}, 'openai-b');
    assert.deepEqual(sent, body);
  });

  it('drops thinking, and the reasoning assistant turns carry back, keeping the rest', () => {
    const user = { role: 'user', content: 'What is 2+2?' };
    const assistant = {
      role: 'assistant',
      content: '4',
      reasoning_content: 'Two and two make four.',
      thinking_blocks: [{ type: 'thinking', thinking: 'Two and two...', signature: 'sig' }],
    };
    const body = {
      model: 'deepseek-reasoner',
      reasoning_effort: 'medium',
      thinking: { type: 'enabled', budget_tokens: 2048 },
      output_config: { effort: 'high' },
      messages: [user, assistant, { role: 'user', content: 'And 3+3?' }],
    };
    const sent = withoutGatewayExtensions(body);
    assert.deepEqual(sent, {
      model: 'deepseek-reasoner',
      reasoning_effort: 'medium',
      messages: [user, { role: 'assistant', content: '4' }, { role: 'user', content: 'And 3+3?' }],
    });
    // Messages without extensions are passed on, not copied; the client's body is untouched.
    assert.equal((sent.messages as unknown[])[0], user);
    assert.equal(assistant.reasoning_content, 'Two and two make four.');
    assert.ok('thinking' in body);
  });

  it("drops the reasoning an assistant turn carries back as `reasoning` (Groq's, vLLM's, Ollama's answer shape), which OpenAI refuses as an unknown message field", () => {
    const user = { role: 'user', content: 'What is 2+2?' };
    const body = {
      messages: [user, { role: 'assistant', content: '4', reasoning: 'Two and two make four.' }],
    };
    assert.deepEqual(withoutGatewayExtensions(body), {
      messages: [user, { role: 'assistant', content: '4' }],
    });
  });

  it("gives DeepSeek a tool-call turn's `reasoning` as its reasoning_content, dropping it elsewhere", () => {
    const call = { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } };
    const body = {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'thinking aloud', reasoning: 'plain turn' },
        { role: 'assistant', content: null, reasoning: 'I will call f.', tool_calls: [call] },
      ],
    };
    assert.deepEqual(withoutGatewayExtensions(body, { keepsToolTurnReasoning: true }).messages, [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'thinking aloud' },
      { role: 'assistant', content: null, reasoning_content: 'I will call f.', tool_calls: [call] },
    ]);
  });

  it('drops caching marks on content parts, messages and tools', () => {
    const body = {
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'stable', cache_control: ephemeral }] },
        { role: 'user', content: 'hi', cache_control: ephemeral },
      ],
      tools: [{ type: 'function', function: { name: 'f' }, cache_control: ephemeral }],
    };
    assert.deepEqual(withoutGatewayExtensions(body), {
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'stable' }] },
        { role: 'user', content: 'hi' },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
    });
    assert.match(JSON.stringify(body), /cache_control/);
  });

  it("drops a Gemini thought signature from an assistant turn's tool calls, keeping the calls", () => {
    const signed = {
      id: 'call_1',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      extra_content: { google: { thought_signature: 'CqUBAdHtim9s' } },
    };
    const unsigned = {
      id: 'call_2',
      type: 'function',
      function: { name: 'get_time', arguments: '{}' },
    };
    const tool = { role: 'tool', tool_call_id: 'call_1', content: '18C' };
    const body = {
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        { role: 'assistant', content: null, tool_calls: [signed, unsigned] },
        tool,
      ],
    };
    const sent = withoutGatewayExtensions(body);
    const { extra_content: _extra, ...plain } = signed;
    assert.deepEqual(sent, {
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        { role: 'assistant', content: null, tool_calls: [plain, unsigned] },
        tool,
      ],
    });
    const calls = (sent.messages as JsonObject[])[1].tool_calls as unknown[];
    assert.equal(calls[1], unsigned);
    assert.ok('extra_content' in signed, "the client's body is untouched");
  });

  it("keeps tool calls' extra_content for Google's OpenAI-compatible endpoint, stripping the rest", () => {
    const call = {
      id: 'call_1',
      type: 'function',
      function: { name: 'get_weather', arguments: '{}' },
      extra_content: { google: { thought_signature: 'CqUBAdHtim9s' } },
    };
    const signedOnly = { messages: [{ role: 'assistant', content: null, tool_calls: [call] }] };
    const keep = { keepsToolCallExtras: true };
    assert.equal(withoutGatewayExtensions(signedOnly, keep), signedOnly);
    const withReasoning = {
      thinking: { type: 'disabled' },
      messages: [{ role: 'assistant', content: null, reasoning_content: 'x', tool_calls: [call] }],
    };
    assert.deepEqual(withoutGatewayExtensions(withReasoning, keep), {
      messages: [{ role: 'assistant', content: null, tool_calls: [call] }],
    });
  });

  it('leaves tool calls without extra_content as the very same body', () => {
    const body = {
      messages: [
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
      ],
    };
    assert.equal(withoutGatewayExtensions(body), body);
  });

  it('finds each extension on its own, even when null', () => {
    const message = (extra: JsonObject) => ({
      messages: [{ role: 'assistant', content: 'x', ...extra }],
    });
    const bodies: [string, JsonObject][] = [
      ['thinking', { thinking: null, messages: [] }],
      ['reasoning_content', message({ reasoning_content: null })],
      ['thinking_blocks', message({ thinking_blocks: [] })],
      ['cache_control', message({ cache_control: ephemeral })],
      ['cache_control', message({ content: [{ type: 'text', text: 'x', cache_control: null }] })],
      ['cache_control', { messages: [], tools: [{ type: 'function', cache_control: ephemeral }] }],
      ['extra_content', message({ tool_calls: [{ id: 'c', extra_content: null }] })],
    ];
    for (const [field, body] of bodies) {
      const sent = withoutGatewayExtensions(body);
      assert.notEqual(sent, body, field);
      assert.doesNotMatch(JSON.stringify(sent), new RegExp(`"${field}"`), field);
    }
  });

  it("drops provider_extras (a Gemini client's topK, safetySettings, taskType), keeping top_k a client sent", () => {
    const extras = { top_k: 40, safety_settings: [{ category: 'c', threshold: 't' }] };
    const chat = { messages: [], top_k: 5, provider_extras: extras };
    assert.deepEqual(withoutGatewayExtensions(chat), { messages: [], top_k: 5 });
    const embeddings = { input: ['a'], provider_extras: { task_type: 'RETRIEVAL_QUERY' } };
    assert.deepEqual(withoutGatewayExtensions(embeddings), { input: ['a'] });
    assert.deepEqual(withoutGatewayExtensions({ input: 'a', provider_extras: null }), {
      input: 'a',
    });
  });

  it('drops provider_extras it never reads without checking them, refusing only inference_geo', () => {
    // Checked by the backends that read them; an OpenAI-format call sends none of them.
    const extras = { top_k: 'many', thinking_budget: -1, inference_geo: 'global' };
    const chat = { messages: [], provider_extras: extras };
    assert.deepEqual(withoutGatewayExtensions(chat), { messages: [] });
    const resident = { messages: [], provider_extras: { top_k: 'many', inference_geo: 'us' } };
    assert.throws(
      () => withoutGatewayExtensions(resident),
      (error: unknown) => error instanceof DataPlaneError && error.param === 'inference_geo',
    );
  });

  it('passes messages and tools that are not objects on as they are', () => {
    const body = { thinking: { type: 'disabled' }, messages: [null, 'x', 7], tools: 'none' };
    assert.deepEqual(withoutGatewayExtensions(body), { messages: [null, 'x', 7], tools: 'none' });
  });

  it("shortens tool call ids that carry a Gemini signature, the call's and its result's alike", () => {
    const signed = `call_1__gts__${Buffer.from('signature bytes').toString('base64url')}`;
    const body = {
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: signed, type: 'function', function: { name: 'w', arguments: '{}' } },
            { id: 'call_2', type: 'function', function: { name: 'w', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: signed, content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_2', content: 'rain' },
      ],
    };
    const sent = withoutGatewayExtensions(body) as { messages: JsonObject[] };
    const calls = sent.messages[1].tool_calls as JsonObject[];
    assert.deepEqual(
      calls.map((call) => call.id),
      ['call_1', 'call_2'],
    );
    assert.equal(sent.messages[2].tool_call_id, 'call_1');
    assert.equal(sent.messages[3], body.messages[3]);
    // The client's body is untouched; ids without one are nothing to strip.
    assert.equal((body.messages[1].tool_calls as JsonObject[])[0].id, signed);
    const plain = { messages: [body.messages[0], body.messages[3]] };
    assert.equal(withoutGatewayExtensions(plain), plain);
  });

  it('turns a failed tool\'s is_error into an "Error: " prefix, OpenAI having no such flag', () => {
    const body = {
      messages: [
        { role: 'tool', tool_call_id: 'a', content: 'service down', is_error: true },
        { role: 'tool', tool_call_id: 'b', content: '', is_error: true },
        {
          role: 'tool',
          tool_call_id: 'c',
          content: [{ type: 'text', text: 'timeout', cache_control: ephemeral }],
          is_error: true,
        },
        { role: 'tool', tool_call_id: 'd', content: 'fine', is_error: false },
      ],
    };
    assert.deepEqual(withoutGatewayExtensions(body), {
      messages: [
        { role: 'tool', tool_call_id: 'a', content: 'Error: service down' },
        { role: 'tool', tool_call_id: 'b', content: 'Error' },
        { role: 'tool', tool_call_id: 'c', content: [{ type: 'text', text: 'Error: timeout' }] },
        { role: 'tool', tool_call_id: 'd', content: 'fine' },
      ],
    });
  });
});
