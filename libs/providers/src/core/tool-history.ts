import type { ChatTurn } from './chat-request';

/**
 * The names of the tools a conversation's earlier turns called or answered, in order of
 * appearance: what a backend that refuses tool blocks without tool definitions (Anthropic's
 * Messages API, Bedrock's Converse) must be told of when the request itself offers none.
 */
export function toolNamesInHistory(turns: readonly ChatTurn[]): string[] {
  const names = new Set<string>();
  for (const turn of turns) {
    if (turn.role === 'assistant') turn.toolCalls.forEach((call) => names.add(call.name));
    if (turn.role === 'tool') names.add(turn.toolName);
  }
  return [...names];
}
