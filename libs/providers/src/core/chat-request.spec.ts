import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { parseChatRequest } from './chat-request';

function rejects(body: JsonObject, param: string | undefined, message: RegExp): void {
  assert.throws(
    () => parseChatRequest(body),
    (error: unknown) =>
      error instanceof DataPlaneError &&
      error.code === DataPlaneErrorCode.InvalidRequest &&
      error.httpStatus === 400 &&
      error.param === param &&
      message.test(error.message),
  );
}

const user = [{ role: 'user', content: 'hi' }];

describe('parseChatRequest', () => {
  it('reads system, turns, tools and settings', () => {
    const prompt = parseChatRequest({
      messages: [{ role: 'developer', content: 'rules' }, ...user],
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: 'auto',
      max_completion_tokens: 10,
      stop: 'x',
    });
    assert.deepEqual(prompt.system, ['rules']);
    assert.deepEqual(prompt.tools, [
      { name: 'f', description: undefined, parameters: { type: 'object', properties: {} } },
    ]);
    assert.equal(prompt.maxTokens, 10);
    assert.deepEqual(prompt.stop, ['x']);
  });

  it('names the field at fault in every rejection', () => {
    rejects({ messages: [] }, 'messages', /non-empty/);
    rejects({ messages: user, n: 2 }, 'n', /one choice/);
    rejects({ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role', /role/);
    rejects(
      { messages: user, tools: [{ type: 'function', function: { name: 'f', parameters: [] } }] },
      'tools[0].function.parameters',
      /JSON Schema object/,
    );
    rejects(
      {
        messages: user,
        tools: [
          {
            type: 'function',
            function: { name: 'f', parameters: { type: 'object', properties: 3 } },
          },
        ],
      },
      'tools[0].function.parameters',
      /properties/,
    );
    rejects({ messages: user, tools: [{ type: 'retrieval' }] }, 'tools[0]', /"type": "function"/);
    rejects(
      {
        messages: user,
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: { type: 'function', function: { name: 'g' } },
      },
      'tool_choice',
      /not in tools/,
    );
    rejects(
      {
        messages: [
          {
            role: 'assistant',
            tool_calls: [
              { id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } },
            ],
          },
        ],
      },
      'messages[0].tool_calls[0].function.arguments',
      /JSON object/,
    );
    rejects(
      { messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] },
      'messages[0].tool_call_id',
      /does not match/,
    );
    rejects({ messages: user, max_tokens: 0 }, 'max_tokens', /positive integer/);
    rejects(
      { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] },
      'messages[0].content[0]',
      /cannot take/,
    );
  });
});
