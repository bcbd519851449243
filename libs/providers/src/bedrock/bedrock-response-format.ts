import { type AnswerTool, answerTool } from '../core/answer-tool';
import type { ChatPrompt } from '../core/chat-request';
import { jsonResponseFormat } from '../core/response-format';

/**
 * How a JSON response_format reaches Converse: through a forced answer tool. Converse has
 * no plain JSON mode, and its structured outputs (`outputConfig.textFormat`) take only the
 * models Bedrock lists for them: the openai SDKs' parse helpers send every schema as
 * strict, so using them would fail such requests elsewhere, while a tool takes any object
 * schema on every model that takes a forced tool choice.
 */
export function converseAnswerTool(prompt: ChatPrompt): AnswerTool | undefined {
  const format = jsonResponseFormat(prompt.responseFormat);
  return format && answerTool(prompt, format, 'bedrock');
}
