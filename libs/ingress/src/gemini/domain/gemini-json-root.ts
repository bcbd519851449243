import type { JsonObject } from '@aigw/contracts/data-plane';
import { isObject } from '../../redaction/copy-on-write';

// A Gemini client's response schema may have any root (Google's own structured-output
// example is an ARRAY of recipes), while OpenAI's json_schema and the answer tool of
// Claude and Bedrock take an object root only ("schema must be a JSON Schema of 'type:
// "object"', got 'type: "array"'"). Such a schema is asked for as the one property of an
// object, and the answer given back as that property's value, so every backend answers it.

/** The property a schema of another root is asked for under. */
const ANSWER_FIELD = 'value';

/** Whether a JSON Schema's root is an object (a schema of properties without a type is). */
function objectRooted(schema: JsonObject): boolean {
  if (schema.type === 'object') return true;
  return schema.type === undefined && isObject(schema.properties) && schema.anyOf === undefined;
}

/**
 * The schema to ask for: an object-rooted one as it is, any other as the one required
 * property of an object (its `$defs` kept at the root, where its `$ref`s point).
 */
export function objectRootedSchema(schema: JsonObject): { schema: JsonObject; wrapped: boolean } {
  if (objectRooted(schema)) return { schema, wrapped: false };
  const { $defs, definitions, ...inner } = schema;
  return {
    schema: {
      type: 'object',
      properties: { [ANSWER_FIELD]: inner },
      required: [ANSWER_FIELD],
      additionalProperties: false,
      ...($defs === undefined ? {} : { $defs }),
      ...(definitions === undefined ? {} : { definitions }),
    },
    wrapped: true,
  };
}

/** The wrapper's opening, `{"value":`, with whatever whitespace a backend put in it. */
const OPENING = new RegExp(`^\\s*\\{\\s*"${ANSWER_FIELD}"\\s*:\\s*`);
const BARE_OPENING = `{"${ANSWER_FIELD}":`;

/**
 * The answer to a wrapped schema as the client's own: the property's value, as JSON. An
 * answer cut short (the token limit) is the client's JSON so far, as Gemini's own would
 * be: the wrapper's opening left out. Text of no wrapper (a backend that answered the
 * client's schema itself) is left as it came.
 */
export function unwrappedAnswer(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed) && ANSWER_FIELD in parsed) return JSON.stringify(parsed[ANSWER_FIELD]);
    return text;
  } catch {
    // Not whole JSON: cut short, most likely (see above).
  }
  const opening = OPENING.exec(text);
  if (opening) return text.slice(opening[0].length);
  // Cut within the opening itself: nothing of the client's JSON yet.
  const bare = text.replace(/\s+/g, '');
  return bare !== '' && BARE_OPENING.startsWith(bare) ? '' : text;
}
