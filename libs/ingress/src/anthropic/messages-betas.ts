import type { IncomingHttpHeaders } from 'node:http';

/** Anthropic's beta that lets a thinking budget span a whole tool-using turn. */
const INTERLEAVED_THINKING_BETA = 'interleaved-thinking-2025-05-14';

/** The betas a Messages client asked for in `anthropic-beta` (comma-separated, or repeated). */
export function anthropicBetas(headers: IncomingHttpHeaders): string[] {
  const header = headers['anthropic-beta'];
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  return values.flatMap((value) =>
    value
      .split(',')
      .map((beta) => beta.trim())
      .filter((beta) => beta !== ''),
  );
}

/** What the client's betas change in how its Messages body is read. */
export function messagesBodyOptions(headers: IncomingHttpHeaders): {
  readonly interleavedThinking: boolean;
} {
  return { interleavedThinking: anthropicBetas(headers).includes(INTERLEAVED_THINKING_BETA) };
}
