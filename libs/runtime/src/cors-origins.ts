// Browsers may call the API from the origins an operator lists (AI_GATEWAY_CORS_ORIGINS);
// without the setting no CORS header is sent and browsers keep other sites out.
import type { FastifyCorsOptions } from '@fastify/cors';
import { StartupError } from './listen';
import type { Env } from './service-settings';

/** Every origin (`*`), or the exact origins listed. */
export type CorsOrigins = '*' | readonly string[];

/**
 * What a browser script may read of an answer beyond the CORS-safelisted headers: every
 * header the gateway sets for its clients to read (README), the request limits' beside the
 * token limits', a 405's `Allow`, and a created WebRTC call's `Location`. The SDKs read two
 * more themselves: `x-should-retry` (whether their automatic retry may help) and Anthropic's
 * `request-id` (`APIError.requestID`); hidden, a browser's SDK retried a refusal it was told
 * not to and reported no request id.
 */
const EXPOSED_HEADERS: readonly string[] = [
  'x-request-id',
  'request-id',
  'x-should-retry',
  'x-ai-gateway-backend',
  'x-ai-gateway-cost-usd',
  'x-ai-gateway-cache',
  'x-ai-gateway-dedup',
  'retry-after',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'allow',
  // A WebRTC call's id (`/v1/realtime/calls/rtc_…`), as OpenAI's answer names it.
  'location',
];

/** The methods the API serves: DELETE removes stored responses, files and conversations. */
const CORS_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'DELETE'];

/** AI_GATEWAY_CORS_ORIGINS: `*`, or origins like `https://app.example.com` split by commas. */
export function corsOriginsFrom(env: Env): CorsOrigins | undefined {
  const raw = env.AI_GATEWAY_CORS_ORIGINS?.trim();
  if (!raw) return undefined;
  if (raw === '*') return '*';
  const origins = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const origin of origins) {
    if (!isOrigin(origin)) {
      throw new StartupError(
        `AI_GATEWAY_CORS_ORIGINS must be * or origins like https://app.example.com separated by commas; "${origin}" is not an origin`,
      );
    }
  }
  return origins;
}

/** A scheme, host and port alone, as a browser sends it in `Origin`. */
function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
  } catch {
    return false;
  }
}

/**
 * The options for `@fastify/cors`. No credentials: callers authenticate with a header
 * (`Authorization`, `x-api-key`), never a cookie. Request headers are allowed as the
 * preflight asks for them (the SDKs send their own `x-stainless-*` and `anthropic-*`).
 */
export function corsOptions(origins: CorsOrigins): FastifyCorsOptions {
  return {
    origin: origins === '*' ? '*' : [...origins],
    methods: [...CORS_METHODS],
    exposedHeaders: [...EXPOSED_HEADERS],
    credentials: false,
    // Browsers cap it lower (Chrome: 2 hours); ten minutes spares most preflights.
    maxAge: 600,
  };
}
