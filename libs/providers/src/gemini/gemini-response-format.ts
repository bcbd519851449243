import type { JsonObject } from '@aigw/contracts/data-plane';
import { jsonResponseFormat, type ResponseFormat } from '../core/response-format';

/**
 * The generationConfig fields for a response_format: JSON output, held to the schema
 * when there is one. `responseJsonSchema` takes JSON Schema as clients write it;
 * `responseSchema` only an OpenAPI subset. Gemini always holds output to the schema, so
 * `strict` changes nothing, and the schema's name has nowhere to go.
 */
export function geminiResponseFormatConfig(format: ResponseFormat | undefined): JsonObject {
  const json = jsonResponseFormat(format);
  if (!json) return {};
  return json.kind === 'json_schema'
    ? { responseMimeType: 'application/json', responseJsonSchema: json.schema }
    : { responseMimeType: 'application/json' };
}
