import type { JsonObject } from '@aigw/contracts/data-plane';
import { jsonResponseFormat, type ResponseFormat } from '../core/response-format';

/**
 * Cohere v2's own `response_format` for an OpenAI one: `json_object`, held to the
 * schema when there is one (Cohere always enforces a schema it is given, so `strict`
 * changes nothing). Undefined for prose, Cohere's default.
 */
export function cohereResponseFormat(format: ResponseFormat | undefined): JsonObject | undefined {
  const json = jsonResponseFormat(format);
  if (!json) return undefined;
  return json.kind === 'json_schema'
    ? { type: 'json_object', json_schema: json.schema }
    : { type: 'json_object' };
}
