// A body nested past the limit is a 400 before anything walks it: on the OpenAI edge, and
// on the edges whose translation walks the client's body first (Anthropic Messages, Gemini),
// and a tool call's arguments, JSON in a string that redaction and provider translations parse
// and walk, are held to the same limit. Past the stack they were a RangeError: a 500.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataPlaneError, DataPlaneErrorCode, MAX_BODY_DEPTH } from '@aigw/contracts/data-plane';
import { translateMessagesRequest } from '../anthropic/domain/anthropic-request';
import { translateGeminiRequest } from '../gemini/domain/gemini-request';
import { buildGatewayRequest } from './request-builder';

const deepObjectText = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const deepObject = (levels: number): unknown => JSON.parse(deepObjectText(levels));
const FAR_PAST_THE_STACK = 200_000;

const refusedAsTooDeep = (param?: string) => (error: unknown) =>
  error instanceof DataPlaneError &&
  error.code === DataPlaneErrorCode.InvalidRequest &&
  error.httpStatus === 400 &&
  error.param === param &&
  error.message.includes(`deeper than ${MAX_BODY_DEPTH} levels`);

test("an Anthropic tool_use block's input nested past the stack is a 400, not a stack overflow", () => {
  const body = {
    model: 'claude-sonnet-4',
    max_tokens: 16,
    messages: [
      { role: 'user', content: 'hi' },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 't', name: 'f', input: deepObject(FAR_PAST_THE_STACK) }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'x' }] },
    ],
  };
  assert.throws(() => translateMessagesRequest(body), refusedAsTooDeep());
  assert.throws(
    () => translateMessagesRequest(body, { requireMaxTokens: false }),
    refusedAsTooDeep(),
  );
});

test("a Gemini functionCall's args nested past the stack is a 400, not a stack overflow", () => {
  const body = {
    contents: [
      { role: 'user', parts: [{ text: 'hi' }] },
      {
        role: 'model',
        parts: [{ functionCall: { name: 'f', args: deepObject(FAR_PAST_THE_STACK) } }],
      },
    ],
  };
  assert.throws(
    () => translateGeminiRequest(body, { model: 'm', stream: false }),
    refusedAsTooDeep(),
  );
});

test("a chat tool call's arguments are held to the body's depth limit, one level past it refused", () => {
  const withArguments = (args: string) => ({
    model: 'm',
    messages: [
      { role: 'user', content: 'hi' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: args } }],
      },
      { role: 'tool', tool_call_id: 'c', content: 'x' },
    ],
  });
  const context = {
    requestId: 'r',
    caller: { userKey: 'u' },
    allowedModels: [],
    forwardHeaders: {},
  };
  const param = 'messages[1].tool_calls[0].function.arguments';
  for (const levels of [MAX_BODY_DEPTH + 1, FAR_PAST_THE_STACK]) {
    assert.throws(
      () => buildGatewayRequest('chat', withArguments(deepObjectText(levels)), context),
      refusedAsTooDeep(param),
    );
  }
  // At the limit, brackets inside its strings not counted, and arguments that are no JSON pass.
  const atLimit = deepObjectText(MAX_BODY_DEPTH).replace('1', '"{{{{[[[["');
  for (const args of [atLimit, '{"a": 1', '[[[[[[[[[[']) {
    assert.doesNotThrow(() => buildGatewayRequest('chat', withArguments(args), context), args);
  }
});
