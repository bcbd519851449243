import type { JsonObject } from '@aigw/contracts/data-plane';
import { isAtLeast, readClaudeModel } from './claude-models';

// Anthropic's structured outputs (`output_config.format`): Claude 4.5 and later answer in a
// JSON schema natively, with thinking and beside the client's own tools, neither of which
// the forced answer tool allows. Only a Messages client's own format is sent so: it was
// written for Anthropic's schema rules, while an OpenAI client's response_format (every
// schema strict from the openai SDKs' parse helpers, with constraints such as `minimum`
// that Anthropic's structured outputs refuse) stays on the answer tool, which takes any.

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `model` has structured outputs: Claude 4.5 and later (Haiku, Sonnet, Opus). */
export function hasStructuredOutputs(model: string): boolean {
  const claude = readClaudeModel(model);
  if (!claude) return false;
  return isAtLeast(claude.version, 4, 5);
}

/**
 * The Messages client's `output_config.format` (the canonical request carries it beside
 * the response_format other backends read), to send as it came when `model` takes it;
 * undefined to answer through the answer tool.
 */
export function claudeOutputFormat(body: JsonObject, model: string): JsonObject | undefined {
  const config = body.output_config;
  if (!isObject(config)) return undefined;
  const format = config.format;
  if (!isObject(format) || format.type !== 'json_schema' || !isObject(format.schema)) {
    return undefined;
  }
  return hasStructuredOutputs(model) ? { ...format } : undefined;
}

/**
 * The Messages client's `output_config.format` for Claude on Vertex AI, which Google lists
 * for Claude 4.6 and later (4.5 "coming soon", and only where the organization policy
 * allows `structured_outputs`); undefined for an earlier model.
 */
export function vertexClaudeOutputFormat(body: JsonObject, model: string): JsonObject | undefined {
  const claude = readClaudeModel(model);
  if (!claude || !isAtLeast(claude.version, 4, 6)) return undefined;
  return claudeOutputFormat(body, model);
}

/**
 * A Messages client's `output_config.task_budget` (an advisory token budget for a whole
 * agentic loop), to send as it came; Anthropic checks it and the model it takes.
 */
export function claudeTaskBudget(body: JsonObject): JsonObject | undefined {
  const config = body.output_config;
  if (!isObject(config) || !isObject(config.task_budget)) return undefined;
  return { ...config.task_budget };
}
