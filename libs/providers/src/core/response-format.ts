import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';

// OpenAI's `response_format`, read once so every translating adapter can honour it.
// Dropping it silently is the defect this guards against: the client then gets prose
// and its JSON parsing fails.

export type ResponseFormat =
  | { readonly kind: 'text' }
  /** Any JSON object. */
  | { readonly kind: 'json_object' }
  | {
      readonly kind: 'json_schema';
      readonly name: string;
      readonly description?: string;
      /** A JSON Schema, as the client sent it. */
      readonly schema: JsonObject;
      /** Whether the client asked for the schema to be enforced, not merely followed. */
      readonly strict: boolean;
    };

/** The kinds that ask for JSON instead of prose. */
export type JsonResponseFormat = Exclude<ResponseFormat, { kind: 'text' }>;

// OpenAI's own rule for `json_schema.name`.
const SCHEMA_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

function invalid(message: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, {
    param: 'response_format',
  });
}

function jsonSchemaFormat(spec: unknown): ResponseFormat {
  if (!isJsonObject(spec)) {
    throw invalid('response_format.json_schema must be an object with a name and a schema');
  }
  if (typeof spec.name !== 'string' || !SCHEMA_NAME.test(spec.name)) {
    throw invalid(
      'response_format.json_schema.name must be 1-64 letters, digits, underscores or dashes',
    );
  }
  if (spec.description !== undefined && typeof spec.description !== 'string') {
    throw invalid('response_format.json_schema.description must be a string');
  }
  if (!isJsonObject(spec.schema)) {
    throw invalid('response_format.json_schema.schema must be a JSON Schema object');
  }
  if (spec.strict !== undefined && spec.strict !== null && typeof spec.strict !== 'boolean') {
    throw invalid('response_format.json_schema.strict must be a boolean');
  }
  return {
    kind: 'json_schema',
    name: spec.name,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    schema: spec.schema,
    strict: spec.strict === true,
  };
}

/** Reads and checks `response_format`; undefined when absent. Throws a 400 naming it. */
export function parseResponseFormat(value: unknown): ResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) throw invalid('response_format must be an object with a type');
  switch (value.type) {
    case 'text':
    case 'json_object':
      return { kind: value.type };
    case 'json_schema':
      return jsonSchemaFormat(value.json_schema);
    default:
      throw invalid('response_format.type must be "text", "json_object" or "json_schema"');
  }
}

/** The format when it asks for JSON; undefined for prose (absent or `text`). */
export function jsonResponseFormat(
  format: ResponseFormat | undefined,
): JsonResponseFormat | undefined {
  return format === undefined || format.kind === 'text' ? undefined : format;
}
