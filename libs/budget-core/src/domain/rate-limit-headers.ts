/** What OpenAI's rate-limit headers count: `-tokens` or `-requests`. */
export type RateLimitHeaderUnit = 'tokens' | 'requests';

/** OpenAI's rate-limit headers for one token (or request) limit. */
export function rateLimitHeaders(
  limit: number,
  remaining: number,
  resetInMs: number,
  unit: RateLimitHeaderUnit = 'tokens',
): Record<string, string> {
  return {
    [`x-ratelimit-limit-${unit}`]: String(limit),
    [`x-ratelimit-remaining-${unit}`]: String(Math.max(0, Math.floor(remaining))),
    [`x-ratelimit-reset-${unit}`]: resetDuration(resetInMs),
  };
}

/** OpenAI's duration format: `1h2m3s`, `45s`, `120ms`. */
export function resetDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  let seconds = Math.ceil(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  return `${hours ? `${hours}h` : ''}${minutes ? `${minutes}m` : ''}${seconds || (!hours && !minutes) ? `${seconds}s` : ''}`;
}
