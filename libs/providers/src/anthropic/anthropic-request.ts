import type { JsonObject } from '@aigw/contracts/data-plane';
import type { ChatPart, ChatPrompt, ChatTurn } from '../core/chat-request';

/**
 * Anthropic requires `max_tokens`; OpenAI clients often leave it out. 4096 is what every
 * current Claude model can produce, so a missing value never fails a call.
 */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

type Block = JsonObject;

function contentBlock(part: ChatPart): Block {
  switch (part.kind) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image':
      return {
        type: 'image',
        source: { type: 'base64', media_type: part.mediaType, data: part.base64 },
      };
    case 'image-url':
      return { type: 'image', source: { type: 'url', url: part.url } };
  }
}

function blocksOf(turn: ChatTurn): { role: 'user' | 'assistant'; blocks: Block[] } {
  switch (turn.role) {
    case 'user':
      return { role: 'user', blocks: turn.parts.map(contentBlock) };
    case 'assistant':
      return {
        role: 'assistant',
        blocks: [
          ...turn.parts.map(contentBlock),
          ...turn.toolCalls.map((call) => ({
            type: 'tool_use',
            id: call.id,
            name: call.name,
            input: call.arguments,
          })),
        ],
      };
    case 'tool':
      // Tool results travel in a user message, one block per result.
      return {
        role: 'user',
        blocks: [{ type: 'tool_result', tool_use_id: turn.toolCallId, content: turn.content }],
      };
  }
}

/** Anthropic's `messages`: adjacent turns of one role merge, as its API wants them. */
function messages(turns: readonly ChatTurn[]): JsonObject[] {
  const merged: { role: 'user' | 'assistant'; content: Block[] }[] = [];
  for (const turn of turns) {
    const { role, blocks } = blocksOf(turn);
    if (blocks.length === 0) continue;
    const last = merged.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else merged.push({ role, content: blocks });
  }
  return merged;
}

function toolChoice(prompt: ChatPrompt): JsonObject | undefined {
  const choice = prompt.toolChoice;
  // parallel_tool_calls=false is Anthropic's disable_parallel_tool_use, set on the choice.
  const serial = prompt.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  switch (choice?.kind) {
    case undefined:
      return prompt.tools.length > 0 && prompt.parallelToolCalls === false
        ? { type: 'auto', ...serial }
        : undefined;
    case 'auto':
      return { type: 'auto', ...serial };
    case 'none':
      return { type: 'none' };
    case 'required':
      return { type: 'any', ...serial };
    case 'function':
      return { type: 'tool', name: choice.name, ...serial };
  }
}

/** The Messages API body for an OpenAI chat request. */
export function toAnthropicRequest(prompt: ChatPrompt, model: string, stream: boolean): JsonObject {
  const body: JsonObject = {
    model,
    max_tokens: prompt.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    messages: messages(prompt.turns),
  };
  if (prompt.system.length > 0) body.system = prompt.system.join('\n\n');
  if (prompt.tools.length > 0) {
    body.tools = prompt.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      input_schema: tool.parameters,
    }));
  }
  const choice = toolChoice(prompt);
  if (choice) body.tool_choice = choice;
  if (prompt.stop.length > 0) body.stop_sequences = prompt.stop;
  if (prompt.temperature !== undefined) body.temperature = prompt.temperature;
  if (prompt.topP !== undefined) body.top_p = prompt.topP;
  if (prompt.user !== undefined) body.metadata = { user_id: prompt.user };
  if (stream) body.stream = true;
  return body;
}
