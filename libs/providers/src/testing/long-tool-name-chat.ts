import assert from 'node:assert/strict';
import type { GatewayAnswer, JsonObject } from '@aigw/contracts/data-plane';
import { toolNameAlias } from '../core/tool-name-aliases';

// A Claude Code MCP tool's name, past the 64 characters OpenAI-like backends take and with
// the dashes MCP names hold, for the specs of the adapters that send such a name as its
// alias (tool-name-aliases).

export const LONG_TOOL_NAME = `mcp__claude-in-chrome__${'read_the_page_text_'.repeat(3)}`;
export const LONG_TOOL_ALIAS = toolNameAlias(LONG_TOOL_NAME);

/**
 * A chat body offering the long-named tool first, then `otherTool`, naming the long one in
 * tool_choice and in an earlier turn's call and result.
 */
export function longToolNameChat(stream: boolean, otherTool: JsonObject): JsonObject {
  const longTool = {
    type: 'function',
    function: { name: LONG_TOOL_NAME, parameters: { type: 'object' } },
  };
  return {
    stream,
    tools: [longTool, otherTool],
    tool_choice: { type: 'function', function: { name: LONG_TOOL_NAME } },
    messages: [
      { role: 'user', content: 'Read the page' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c0', type: 'function', function: { name: LONG_TOOL_NAME, arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c0', content: 'a page' },
      { role: 'user', content: 'Again' },
    ],
  };
}

/** The function of the first tool call in a plain (JSON) answer's first choice. */
export function answeredToolFunction(answer: GatewayAnswer): JsonObject {
  if (answer.kind !== 'json') return assert.fail('expected json');
  const message = (answer.body.choices as JsonObject[])[0].message as JsonObject;
  const [call] = message.tool_calls as { function: JsonObject }[];
  return call.function;
}
