import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from '../core/json-shape';
import { parseResponseFormat } from '../core/response-format';

/**
 * A chat body DeepSeek takes: OpenAI's effort `none` as its thinking switched off
 * (withoutEffortNone), a json_schema response format as its JSON mode (withJsonMode).
 * The same object when neither applies.
 */
export function deepseekChatBody(body: JsonObject): JsonObject {
  return withJsonMode(withoutEffortNone(body));
}

/**
 * OpenAI's `reasoning_effort: "none"` (no reasoning: the Responses API's and gpt-5.1's
 * lowest effort), which DeepSeek does not define (its efforts are high and max, thinking
 * on), as its own switch, `thinking: {"type": "disabled"}` (the wire sends a canonical
 * `thinking` to DeepSeek as that toggle). A `thinking` the client set wins, as it does over
 * an effort on every backend.
 */
function withoutEffortNone(body: JsonObject): JsonObject {
  if (body.reasoning_effort !== 'none') return body;
  const { reasoning_effort: _none, ...rest } = body;
  const thinking = body.thinking ?? { type: 'disabled' };
  return { ...rest, thinking };
}

/**
 * A json_schema response format as DeepSeek's JSON mode. Its chat API defines
 * `response_format` text and json_object only, and answers 400 ("This response_format type is unavailable now") to json_schema,
 * which the openai SDKs' parse(), LangChain's structured output and the gateway's Responses
 * and Messages edges send. Such a body goes as DeepSeek's JSON mode, with the schema given
 * to the model in a system message ahead of the conversation, as DeepSeek's JSON guide asks
 * (the word "json" and the format wanted in the prompt). The answer is a JSON object; that it
 * follows the schema is the model's doing, not enforced. The same object otherwise.
 */
function withJsonMode(body: JsonObject): JsonObject {
  const asked = body.response_format;
  if (!isJsonObject(asked) || asked.type !== 'json_schema') return body;
  // A malformed json_schema is the client's 400 naming response_format, before any call.
  const format = parseResponseFormat(asked);
  if (format?.kind !== 'json_schema') return body;
  const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  const purpose = format.description === undefined ? '' : ` (${format.description})`;
  const instruction = {
    role: 'system',
    content:
      `Answer with one JSON object, "${format.name}"${purpose}, and nothing else. ` +
      `It must conform to this JSON Schema: ${JSON.stringify(format.schema)}`,
  };
  return {
    ...body,
    response_format: { type: 'json_object' },
    messages: [instruction, ...messages],
  };
}
