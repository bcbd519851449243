import type { JsonObject } from '@aigw/contracts/data-plane';
import type { AnswerTool } from '../core/answer-tool';

/**
 * The Messages API fields that make the model answer a JSON response_format through the
 * forced answer tool (`core/answer-tool.ts`). Anthropic has no plain JSON mode, and its
 * structured outputs (`output_config.format`) take only Claude 4.5 models and later: the
 * openai SDKs' parse helpers send every schema as strict, so using them would fail such
 * requests on older models, while a tool takes any object schema on every Claude model.
 */
export function anthropicAnswerToolFields(tool: AnswerTool): JsonObject {
  return {
    tools: [{ name: tool.name, description: tool.description, input_schema: tool.schema }],
    // One call only: two answers would be two JSON documents run together.
    tool_choice: { type: 'tool', name: tool.name, disable_parallel_tool_use: true },
  };
}
