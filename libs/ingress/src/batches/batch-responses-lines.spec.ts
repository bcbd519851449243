import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { rewriteBatchInput } from './batch-jsonl';

/** A batch file of one request line to `url` with `body` (its model the file's). */
const file = (body: Record<string, unknown>, url = '/v1/responses') =>
  `${JSON.stringify({ custom_id: 'ok', method: 'POST', url, body: { model: 'gpt-v', input: 'hi' } })}\n${JSON.stringify(
    { custom_id: 'c2', method: 'POST', url, body: { model: 'gpt-v', input: 'q', ...body } },
  )}\n`;

function refusal(text: string): string {
  try {
    rewriteBatchInput(text, 'gpt-v', 'up');
  } catch (error) {
    assert.ok(error instanceof DataPlaneError);
    assert.equal(error.httpStatus, 400);
    assert.equal(error.param, 'file');
    return error.message;
  }
  return 'accepted';
}

describe('a Responses batch line', () => {
  it('is refused, naming its line, for a built-in tool a single call is refused', () => {
    for (const type of ['web_search', 'file_search', 'code_interpreter', 'mcp', undefined]) {
      const tools = [
        { type: 'function', name: 'f', parameters: {} },
        { type, vector_store_ids: ['vs_1'] },
      ];
      assert.match(
        refusal(file({ tools })),
        /^Line 2 of the batch input file sets body\.tools\[1\]\.type .*runs no built-in tools/,
        String(type),
      );
    }
  });

  it("is refused for the backend's stored state: a prompt template, an earlier response, a conversation", () => {
    assert.match(refusal(file({ prompt: { id: 'pmpt_1' } })), /^Line 2 .* body\.prompt/);
    assert.match(
      refusal(file({ previous_response_id: 'resp_other' })),
      /^Line 2 .* body\.previous_response_id/,
    );
    assert.match(refusal(file({ conversation: 'conv_1' })), /^Line 2 .* body\.conversation/);
    const input = [
      { role: 'user', content: 'q' },
      { type: 'item_reference', id: 'msg_other' },
    ];
    assert.match(refusal(file({ input })), /^Line 2 .* body\.input\[1\] .*item_reference/);
    // Its type may be left out (OpenAI's ItemReference: `type` optional): an id alone.
    const typeless = [{ role: 'user', content: 'q' }, { id: 'msg_other' }];
    assert.match(
      refusal(file({ input: typeless })),
      /^Line 2 .* body\.input\[1\] .*item_reference/,
    );
    // A message may leave out its type; it is no reference.
    const easy = [{ role: 'user', content: 'q' }];
    assert.equal(refusal(file({ input: easy })), 'accepted');
    // Azure's url names the same endpoint.
    assert.match(refusal(file({ prompt: { id: 'p' } }, '/responses')), /body\.prompt/);
  });

  it('runs with its own function and custom tools, as a single call does', () => {
    const tools = [
      { type: 'function', name: 'f', parameters: {} },
      { type: 'custom', name: 'c' },
    ];
    assert.equal(refusal(file({ tools, previous_response_id: null })), 'accepted');
    // A chat line's fields are a chat call's.
    assert.equal(
      refusal(file({ prompt: 'text', messages: [] }, '/v1/chat/completions')),
      'accepted',
    );
  });
});
