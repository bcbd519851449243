import type { JsonObject } from '@aigw/contracts/data-plane';

/**
 * The `anthropic-beta` each server tool version needs on Anthropic's own API (its docs):
 * web search is generally available; web fetch and code execution are betas.
 */
const ANTHROPIC_SERVER_TOOL_BETAS: Readonly<Record<string, string>> = {
  web_fetch_20250910: 'web-fetch-2025-09-10',
  code_execution_20250522: 'code-execution-2025-05-22',
  code_execution_20250825: 'code-execution-2025-08-25',
};

/** Claude on Vertex AI takes web search behind its preview beta (Google's docs). */
export const VERTEX_WEB_SEARCH_BETA = 'web-search-2025-03-05';

/** The betas the server tools of a request need on Anthropic's own API, each once. */
export function serverToolBetas(tools: readonly JsonObject[] | undefined): string[] {
  const betas = new Set<string>();
  for (const tool of tools ?? []) {
    const beta = typeof tool.type === 'string' ? ANTHROPIC_SERVER_TOOL_BETAS[tool.type] : undefined;
    if (beta !== undefined) betas.add(beta);
  }
  return [...betas];
}

/**
 * An `anthropic-beta` value with `needed` added to what the client asked for (forwarded),
 * each once; undefined when there is neither.
 */
export function withBetas(
  asked: string | undefined,
  needed: readonly string[],
): string | undefined {
  const betas = new Set(
    (asked ?? '')
      .split(',')
      .map((beta) => beta.trim())
      .filter((beta) => beta !== ''),
  );
  for (const beta of needed) betas.add(beta);
  return betas.size > 0 ? [...betas].join(',') : undefined;
}
