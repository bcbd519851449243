// Tools as Claude Code declares them, shared by the e2e specs of its requests.

/** A Claude Code MCP tool's name: longer than OpenAI's 64, within Anthropic's 128. */
export const MCP_TOOL = `mcp__plugin_marketplace_docs__${'search_the_documentation_'.repeat(3)}`;
/** A tool's input schema: one string argument, `q`. */
export const QUERY_INPUT = { type: 'object' as const, properties: { q: { type: 'string' } } };
