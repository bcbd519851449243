import type { JsonObject } from '@aigw/contracts/data-plane';
import { isAtLeast, readClaudeModel, type ClaudeVersion } from './claude-models';

// Anthropic's structured outputs (`output_config.format`): Claude 4.5 and later answer in a
// JSON schema natively, with thinking and beside the client's own tools, neither of which
// the forced answer tool allows. Only a Messages client's own format is sent so: it was
// written for Anthropic's schema rules, while an OpenAI client's response_format (every
// schema strict from the openai SDKs' parse helpers, with constraints such as `minimum`
// that Anthropic's structured outputs refuse) stays on the answer tool, which takes any.

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Where a Claude model runs, as far as its structured outputs go. */
export type ClaudePlatform = 'anthropic' | 'bedrock' | 'vertex';

/**
 * The first Claude each platform takes structured outputs on: Anthropic's API and Bedrock
 * (Converse's `outputConfig.textFormat`, which AWS documents for Claude 4.5 and later) from
 * 4.5; Vertex AI from 4.6, the first Google lists (4.5 "coming soon", and only where the
 * organization policy allows `structured_outputs`).
 */
const STRUCTURED_OUTPUTS_SINCE: Readonly<Record<ClaudePlatform, ClaudeVersion>> = {
  anthropic: { major: 4, minor: 5 },
  bedrock: { major: 4, minor: 5 },
  vertex: { major: 4, minor: 6 },
};

/** Whether `model` answers in a JSON schema natively on `platform` (Haiku, Sonnet, Opus). */
export function hasStructuredOutputs(model: string, platform: ClaudePlatform): boolean {
  const claude = readClaudeModel(model);
  if (!claude) return false;
  const since = STRUCTURED_OUTPUTS_SINCE[platform];
  return isAtLeast(claude.version, since.major, since.minor);
}

/**
 * The Messages client's `output_config.format` (the canonical request carries it beside
 * the response_format other backends read), to send as it came when `model` takes it on
 * `platform`; undefined to answer through the answer tool.
 */
export function claudeOutputFormat(
  body: JsonObject,
  model: string,
  platform: ClaudePlatform,
): JsonObject | undefined {
  const config = body.output_config;
  if (!isObject(config)) return undefined;
  const format = config.format;
  if (!isObject(format) || format.type !== 'json_schema' || !isObject(format.schema)) {
    return undefined;
  }
  return hasStructuredOutputs(model, platform) ? { ...format } : undefined;
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
