import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

// How long a tool's name may be, per backend. OpenAI, Bedrock's Converse and Gemini take
// 1-64 letters, digits, underscores or dashes; Anthropic's own Messages API takes up to
// 128 (Claude Code's MCP tools, mcp__<server>__<tool>, often need more than 64).

/** OpenAI's limit, and Converse's and Gemini's: the default for every backend. */
export const TOOL_NAME_LIMIT = 64;
/** What Anthropic's Messages API takes (`^[a-zA-Z0-9_-]{1,128}$`). */
export const ANTHROPIC_TOOL_NAME_LIMIT = 128;

const TOOL_NAME_CHARACTERS = /^[a-zA-Z0-9_-]+$/;

/** Whether a name is made of the characters every provider takes. */
export function hasToolNameCharacters(name: string): boolean {
  return TOOL_NAME_CHARACTERS.test(name);
}

/**
 * The 400 of a tool name longer than the backend takes: named, with the limit, before any
 * call (the backend's own refusal would name only an index, or nothing a client can act on).
 */
export function toolNameTooLong(name: string, limit: number, param: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `tool name '${name}' has ${name.length} characters; this backend takes tool names of at most ${limit} (Anthropic backends take up to ${ANTHROPIC_TOOL_NAME_LIMIT})`,
    { param },
  );
}
