import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { answerTool, type AnswerTool } from '../core/answer-tool';
import type { ChatPrompt } from '../core/chat-request';
import { jsonResponseFormat, type JsonResponseFormat } from '../core/response-format';
import { hasStructuredOutputs } from '../anthropic/claude-output-format';
import { baseModelId, converseFamily } from './bedrock-model-id';

// How a Converse request asks for a JSON answer, by model family. Converse has no plain
// JSON mode. It forces a tool (`toolChoice.tool`) only on Claude and Nova, and its
// structured outputs (`outputConfig.textFormat`, a JSON Schema the answer's text keeps
// to) take only the models Bedrock lists for them: Claude 4.5 and later, and open-weight
// Qwen, DeepSeek, Mistral, Gemma, Nemotron, MiniMax and Kimi models. Every other family
// (Llama, Titan, Cohere, AI21...) has neither: its JSON request is refused, never sent as
// prose.

/** What a Converse request carries for a JSON response_format. */
export type ConverseJsonMode =
  /** A forced answer tool, whose input is the answer (Claude, Nova). */
  | { readonly kind: 'tool'; readonly tool: AnswerTool }
  /** Structured outputs: the answer's text keeps to the schema. */
  | { readonly kind: 'output-config'; readonly outputConfig: JsonObject };

/** The base-model prefixes of the open-weight families Bedrock lists for structured outputs. */
const STRUCTURED_OUTPUT_VENDORS = [
  'qwen.',
  'deepseek.',
  'mistral.',
  'google.gemma',
  'nvidia.',
  'minimax.',
  'moonshot.',
  'moonshotai.',
];

function takesStructuredOutputs(model: string): boolean {
  const base = baseModelId(model);
  return STRUCTURED_OUTPUT_VENDORS.some((vendor) => base.startsWith(vendor));
}

/**
 * The JSON mode of a prompt for `model`; undefined for prose. Claude, Nova and an ARN that
 * does not say its model (it may be Claude) get the forced answer tool, which every
 * tool-calling Claude takes, strict schemas included, unless the prompt has tools of its
 * own and the model is Claude 4.5 or later, which gets `outputConfig`; the
 * structured-output families get `outputConfig`; any other family is a 400 naming
 * response_format.
 */
export function converseJsonMode(prompt: ChatPrompt, model: string): ConverseJsonMode | undefined {
  const format = jsonResponseFormat(prompt.responseFormat);
  if (!format) return undefined;
  const family = converseFamily(model);
  // Beside the client's own tools a forced answer tool cannot stand (the model could never
  // call them); Claude 4.5 and later keep to the schema natively, with the tools.
  if (family === 'claude' && prompt.tools.length > 0 && hasStructuredOutputs(model, 'bedrock')) {
    return { kind: 'output-config', outputConfig: outputConfig(format) };
  }
  if (family !== 'other') {
    const tool = answerTool(prompt, 'bedrock');
    return tool && { kind: 'tool', tool };
  }
  if (takesStructuredOutputs(model)) {
    return { kind: 'output-config', outputConfig: outputConfig(format) };
  }
  throw new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `the bedrock backend's model "${model.slice(0, 200)}" cannot answer in JSON: Converse ` +
      'forces a tool only on Claude and Nova, and its structured outputs take only Claude ' +
      '4.5 and later and some open-weight models (Qwen, DeepSeek, Mistral, Gemma, Nemotron, ' +
      'MiniMax, Kimi); leave response_format out, or route JSON requests to one of those',
    { param: 'response_format' },
  );
}

/**
 * Converse's OutputConfig for a JSON format: a json_schema text format whose schema goes
 * as a string (JsonSchemaDefinition.schema); json_object asks for any object.
 */
function outputConfig(format: JsonResponseFormat): JsonObject {
  const jsonSchema =
    format.kind === 'json_object'
      ? { schema: JSON.stringify({ type: 'object' }) }
      : {
          schema: JSON.stringify(format.schema),
          name: format.name,
          ...(format.description === undefined ? {} : { description: format.description }),
        };
  return { textFormat: { type: 'json_schema', structure: { jsonSchema } } };
}
