import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import type { ChatPrompt } from './chat-request';
import { jsonResponseFormat } from './response-format';

/**
 * JSON output through a tool call, for providers whose own JSON mode does not cover the
 * request: one tool whose input schema is the wanted answer, which the model is made to
 * call. Its input, serialized, is the answer's content; the client never sees the call.
 */
export interface AnswerTool {
  readonly name: string;
  readonly description: string;
  /** An object schema, as tool inputs must be. */
  readonly schema: JsonObject;
}

/** The answer tool of `json_object`, which names no schema. */
export const JSON_OBJECT_ANSWER_TOOL = 'json_response';

function invalid(message: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, {
    param: 'response_format',
  });
}

/**
 * The answer tool for a prompt whose response_format asks for JSON; undefined for prose.
 * Refuses (400) what it cannot express: the client's own tools beside it (forcing the
 * answer tool would keep the model from ever calling them) and a schema whose top level
 * is not an object.
 */
export function answerTool(prompt: ChatPrompt, provider: string): AnswerTool | undefined {
  const format = jsonResponseFormat(prompt.responseFormat);
  if (!format) return undefined;
  if (prompt.tools.length > 0) {
    throw invalid(
      `the ${provider} backend cannot combine tools with response_format ${format.kind}: ` +
        'it answers in JSON through a tool call of its own; send tools or response_format, not both',
    );
  }
  if (format.kind === 'json_object') {
    return {
      name: JSON_OBJECT_ANSWER_TOOL,
      description: 'Give your whole answer as a JSON object through this tool.',
      schema: { type: 'object' },
    };
  }
  const { schema } = format;
  if (schema.type !== undefined && schema.type !== 'object') {
    throw invalid(
      `the ${provider} backend takes a response_format json_schema whose top level is "type": "object"`,
    );
  }
  return {
    name: format.name,
    description: format.description ?? 'Give your whole answer through this tool.',
    // As with tools: a schema that leaves out the type is taken as an object schema.
    schema: { type: 'object', ...schema },
  };
}
