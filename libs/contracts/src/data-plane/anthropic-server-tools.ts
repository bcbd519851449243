import type { JsonObject } from './data-plane.types';

// Anthropic's server tools (web search, web fetch, code execution): Anthropic runs them
// itself, inside one Messages call, so only a backend that speaks to Anthropic's own API
// (and, for web search only, Claude on Vertex AI) can serve a request that asks for one.
// As with Gemini's built-in tools (gemini-tools.ts), the Messages edge carries them in the
// canonical request's `provider_extras` (`anthropic_server_tools`, each tool object as the
// client sent it) and the router sends such a request to those backends only.
// What they answer with (server_tool_use and *_tool_result blocks, citations on text)
// rides in Anthropic's own shape: as parts of the assistant message's content, in order
// (`{type: "server_tool_use", ...}`, a text part's `citations`), and in a stream as the
// delta's `server_tool_blocks` (each block whole) and `citations`. Such content (an
// answer's, or an assistant turn's sent back with a server tool's blocks) carries the
// turn's thinking and redacted_thinking blocks too, in their places among the parts and
// not in `thinking_blocks`: Claude may think between a search and its answer, and
// Anthropic refuses a turn sent back with its thinking moved. A stream keeps the order
// as it comes, each block in its turn.

export const ANTHROPIC_SERVER_TOOLS = ['web_search', 'web_fetch', 'code_execution'] as const;
export type AnthropicServerTool = (typeof ANTHROPIC_SERVER_TOOLS)[number];

/** Where the canonical request carries the server tools asked for. */
export const ANTHROPIC_SERVER_TOOLS_EXTRA = 'anthropic_server_tools';

/** A server tool's versioned type: `web_search_20250305`, `code_execution_20250825`. */
const SERVER_TOOL_TYPE = new RegExp(`^(${ANTHROPIC_SERVER_TOOLS.join('|')})_(\\d{8})$`);

/** The server tool a tool type is a version of; undefined for any other type. */
export function anthropicServerToolOf(type: unknown): AnthropicServerTool | undefined {
  if (typeof type !== 'string') return undefined;
  const match = SERVER_TOOL_TYPE.exec(type);
  return match ? (match[1] as AnthropicServerTool) : undefined;
}

/**
 * The content blocks only a server tool's run produces: the call, and each tool's result.
 * They go back to Anthropic as they came (the results hold encrypted content).
 */
const SERVER_TOOL_BLOCK_TYPES = [
  'server_tool_use',
  'web_search_tool_result',
  'web_fetch_tool_result',
  'code_execution_tool_result',
  'bash_code_execution_tool_result',
  'text_editor_code_execution_tool_result',
] as const;
export type ServerToolBlockType = (typeof SERVER_TOOL_BLOCK_TYPES)[number];

const SERVER_TOOL_BLOCKS: ReadonlySet<string> = new Set(SERVER_TOOL_BLOCK_TYPES);

export function isServerToolBlockType(type: unknown): boolean {
  return typeof type === 'string' && SERVER_TOOL_BLOCKS.has(type);
}

/**
 * The server tools a canonical request asks for, by tool (web_search, ...), in order; none
 * for a request without them. Reads the types only: the adapters check the rest.
 */
export function anthropicServerToolsAsked(body: JsonObject): AnthropicServerTool[] {
  return anthropicServerToolObjects(body).flatMap((tool) => {
    const name = anthropicServerToolOf(tool.type);
    return name ? [name] : [];
  });
}

/**
 * The server tool objects a canonical request carries, as the client sent them (unchecked);
 * none for a request without them.
 */
export function anthropicServerToolObjects(body: JsonObject): JsonObject[] {
  const extras = body.provider_extras;
  if (typeof extras !== 'object' || extras === null || Array.isArray(extras)) return [];
  const tools = (extras as JsonObject)[ANTHROPIC_SERVER_TOOLS_EXTRA];
  if (!Array.isArray(tools)) return [];
  return tools.filter((tool): tool is JsonObject => typeof tool === 'object' && tool !== null);
}

/**
 * The server tools Claude on Vertex AI runs: web search only (Google's "Web search with
 * Anthropic Claude models", a preview behind the `web-search-2025-03-05` beta); its docs
 * name no web fetch or code execution.
 */
export const VERTEX_CLAUDE_SERVER_TOOLS: ReadonlySet<AnthropicServerTool> = new Set(['web_search']);

/** Which backends run a server tool, for the error that refuses it elsewhere. */
export function serverToolRunners(tool: AnthropicServerTool): string {
  return VERTEX_CLAUDE_SERVER_TOOLS.has(tool)
    ? 'Anthropic backends and Claude models on Vertex AI'
    : 'Anthropic backends';
}
