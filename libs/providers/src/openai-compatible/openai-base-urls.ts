// Public endpoints of providers that speak OpenAI's wire format. Self-hosted kinds
// (vllm, kserve, openai-compatible) have none: configuration must give `baseUrl`.
export const OPENAI_COMPATIBLE_BASE_URLS: Readonly<Record<string, string | undefined>> = {
  openai: 'https://api.openai.com/v1',
  mistral: 'https://api.mistral.ai/v1',
  groq: 'https://api.groq.com/openai/v1',
  deepseek: 'https://api.deepseek.com/v1',
  together: 'https://api.together.xyz/v1',
  vllm: undefined,
  kserve: undefined,
  'openai-compatible': undefined,
};

/** Resolved base URLs, by provider and configured URL: a backend's is parsed once. */
const resolved = new Map<string, string>();
/** More distinct (provider, baseUrl) pairs than any config has; past it, start afresh. */
const MAX_RESOLVED = 256;

/**
 * The path a configured URL without one gets: KServe's Hugging Face runtime serves OpenAI's
 * routes under `/openai/v1` (its InferenceService URL is the host alone), the others `/v1`.
 */
const DEFAULT_PATHS: Readonly<Record<string, string>> = { kserve: '/openai/v1' };

/** The base URL for a call: configured, else the provider's own; its default path if none given. */
export function resolveBaseUrl(provider: string, configured: string | undefined): string {
  const key = `${provider} ${configured ?? ''}`;
  let base = resolved.get(key);
  if (base === undefined) {
    base = parseBaseUrl(provider, configured);
    if (resolved.size >= MAX_RESOLVED) resolved.clear();
    resolved.set(key, base);
  }
  return base;
}

function parseBaseUrl(provider: string, configured: string | undefined): string {
  const base = configured ?? OPENAI_COMPATIBLE_BASE_URLS[provider];
  if (!base) throw new Error(`provider "${provider}" needs a baseUrl`);
  const url = new URL(base);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${path === '' ? (DEFAULT_PATHS[provider] ?? '/v1') : path}`;
}

/**
 * Whether a resolved base URL is one of Google's OpenAI-compatible endpoints (the Gemini
 * API's `/v1beta/openai`, Vertex AI's), which define tool calls' `extra_content`.
 */
export function isGoogleEndpoint(base: string): boolean {
  return /^https:\/\/([a-z0-9-]+\.)*googleapis\.com(:\d+)?\//i.test(base);
}
