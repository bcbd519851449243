import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { openAiAnswerProblem } from './openai-answer-shape';

const chat = (choices: unknown): JsonObject => ({ choices });

describe('openAiAnswerProblem', () => {
  it('passes the answers clients read, extra fields and all', () => {
    for (const message of [
      { role: 'assistant', content: 'Hi' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'assistant', refusal: 'no' },
      { role: 'assistant', content: [{ type: 'text', text: 'Hi' }], extra: 1 },
      // A call to a custom (free-form) tool, which the chat edge takes: no function object.
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c', type: 'custom', custom: { name: 'sql', input: 'SELECT 1' } }],
      },
      { role: 'assistant', content: null, audio: { id: 'a', data: 'UklG', transcript: 'Hi' } },
    ]) {
      assert.equal(openAiAnswerProblem('chat', chat([{ index: 0, message }])), undefined);
    }
    assert.equal(openAiAnswerProblem('completions', chat([{ text: '' }])), undefined);
    const vectors = { data: [{ embedding: [0.1, -2] }] };
    assert.equal(openAiAnswerProblem('embeddings', vectors), undefined);
    // Base64 float32s, asked for or sent unasked (the edges decode it for clients of numbers).
    const float32s = Buffer.from(new Float32Array([0.5, -1]).buffer).toString('base64');
    assert.equal(openAiAnswerProblem('embeddings', { data: [{ embedding: float32s }] }), undefined);
    // vLLM's float16 (`embed_dtype`): two bytes a value, so an odd count is not whole float32s.
    const float16s = Buffer.from(new Uint16Array([0x3800, 0xbc00, 0x3c00]).buffer).toString(
      'base64',
    );
    assert.equal(openAiAnswerProblem('embeddings', { data: [{ embedding: float16s }] }), undefined);
  });

  // Found by the bad-input fuzz suite: each reached the client as a clean 200.
  it('names what is wrong with an answer a client could not read', () => {
    const cases: [Parameters<typeof openAiAnswerProblem>[0], JsonObject, RegExp][] = [
      ['chat', {}, /without its "choices" list/],
      // An empty 200 of an overloaded proxy: no choice for the SDK's choices[0] (fails over).
      ['chat', chat([]), /without any choice/],
      ['completions', chat([]), /without any choice/],
      ['chat', chat([null]), /not an object/],
      ['chat', chat([{ message: null }]), /without a message object/],
      ['chat', chat([{ message: { content: 5 } }]), /content is not text/],
      ['chat', chat([{ message: { content: 'a', tool_calls: 'x' } }]), /tool_calls/],
      ['chat', chat([{ message: { content: null, tool_calls: [null] } }]), /tool call/],
      ['chat', chat([{ message: { tool_calls: [{ id: 'c', function: null }] } }]), /tool call/],
      ['chat', chat([{ message: { tool_calls: [{ function: { name: 5 } }] } }]), /tool call/],
      [
        'chat',
        chat([{ message: { tool_calls: [{ type: 'custom', custom: null }] } }]),
        /tool call/,
      ],
      ['completions', chat([{ text: 5 }]), /without its text/],
      ['completions', chat([{ message: { content: 'chat-shaped' } }]), /without its text/],
      ['embeddings', { data: 'x' }, /without its "data" list/],
      ['embeddings', { data: [{ embedding: 'x' }] }, /neither numbers nor base64/],
      ['embeddings', { data: [{ embedding: 'AA=A' }] }, /neither numbers nor base64/],
      ['embeddings', { data: [{ embedding: '' }] }, /neither numbers nor base64/],
      ['embeddings', { data: [{ embedding: 5 }] }, /neither numbers nor base64/],
      ['embeddings', { data: [{ embedding: [1, 'a'] }] }, /neither numbers nor base64/],
    ];
    for (const [operation, answer, problem] of cases) {
      assert.match(
        openAiAnswerProblem(operation, answer) ?? 'none',
        problem,
        JSON.stringify(answer),
      );
    }
  });

  // OpenRouter's "error" and DeepSeek's "insufficient_system_resource" finish a cut answer.
  it('names a choice its backend finished as failed, as a stream does', () => {
    const failed: [Parameters<typeof openAiAnswerProblem>[0], JsonObject, RegExp][] = [
      ['chat', chat([{ message: { content: 'Hal' }, finish_reason: 'error' }]), /"error"/],
      [
        'chat',
        chat([{ message: { content: 'Hal' }, finish_reason: 'insufficient_system_resource' }]),
        /insufficient_system_resource/,
      ],
      ['chat', chat([{ message: { content: '' }, error: { message: 'x' } }]), /failed/],
      ['completions', chat([{ text: 'Hal', finish_reason: 'error' }]), /failed/],
    ];
    for (const [operation, answer, problem] of failed) {
      assert.match(openAiAnswerProblem(operation, answer) ?? 'none', problem);
    }
    const finished = chat([{ message: { content: 'Hello' }, finish_reason: 'stop' }]);
    assert.equal(openAiAnswerProblem('chat', finished), undefined);
  });
});
