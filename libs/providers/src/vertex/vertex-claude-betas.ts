/**
 * The `anthropic-beta` values Claude on Vertex AI takes. Vertex answers any other value
 * with a 400 ("Unexpected value(s) ... for the `anthropic-beta` header"), and Claude Code
 * sends several it lacks on every call (claude-code-20250219, prompt-caching-scope-*,
 * effort-*): forwarded whole, they failed every Claude Code call to a Vertex backend.
 */
const VERTEX_CLAUDE_BETAS: ReadonlySet<string> = new Set([
  'interleaved-thinking-2025-05-14',
  'context-1m-2025-08-07',
]);

/** Leaves in `headers` (a call's own copy) only the betas Vertex takes, or no header at all. */
export function keepVertexClaudeBetas(headers: Record<string, string>): void {
  const asked = headers['anthropic-beta'];
  if (asked === undefined) return;
  const kept = asked
    .split(',')
    .map((beta) => beta.trim())
    .filter((beta) => VERTEX_CLAUDE_BETAS.has(beta));
  if (kept.length > 0) headers['anthropic-beta'] = kept.join(',');
  else delete headers['anthropic-beta'];
}
