/** What OpenAI's rate-limit headers count: `-tokens` or `-requests`. */
export type RateLimitHeaderUnit = 'tokens' | 'requests';

/**
 * OpenAI's rate-limit headers for one token (or request) limit; `limit` may come as the
 * header's text, made once per limit by a caller that sends it on every answer.
 */
export function rateLimitHeaders(
  limit: number | string,
  remaining: number,
  resetInMs: number,
  unit: RateLimitHeaderUnit = 'tokens',
): Record<string, string> {
  const limitText = String(limit);
  const remainingText = String(Math.max(0, Math.floor(remaining)));
  const reset = resetDuration(resetInMs);
  // Literal names, one shape per unit: computed names built a slow (dictionary) object per
  // answer, and new name strings to hash before that (1.2% of the gateway's CPU, profiled).
  return unit === 'tokens'
    ? {
        'x-ratelimit-limit-tokens': limitText,
        'x-ratelimit-remaining-tokens': remainingText,
        'x-ratelimit-reset-tokens': reset,
      }
    : {
        'x-ratelimit-limit-requests': limitText,
        'x-ratelimit-remaining-requests': remainingText,
        'x-ratelimit-reset-requests': reset,
      };
}

// The last duration made: every answer within the same second says the same one, and
// building it was half of these headers' cost (bench/micro/policies.ts).
let lastSeconds = -1;
let lastDuration = '';

/** OpenAI's duration format: `1h2m3s`, `45s`, `120ms`. */
export function resetDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const whole = Math.ceil(ms / 1000);
  if (whole !== lastSeconds) {
    lastDuration = secondsDuration(whole);
    lastSeconds = whole;
  }
  return lastDuration;
}

function secondsDuration(whole: number): string {
  let seconds = whole;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  return `${hours ? `${hours}h` : ''}${minutes ? `${minutes}m` : ''}${seconds || (!hours && !minutes) ? `${seconds}s` : ''}`;
}
