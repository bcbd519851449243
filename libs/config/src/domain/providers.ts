// The providers the gateway knows, and how to guess one when the config leaves it out.

export const PROVIDER_KINDS = [
  'openai',
  'anthropic',
  'google-gemini',
  'bedrock',
  // Google Vertex AI: Gemini and Claude in a Google Cloud project, OAuth2 access tokens.
  'vertex',
  'azure',
  'mistral',
  'cohere',
  'groq',
  'deepseek',
  'together',
  'vllm',
  'kserve',
  // Any OpenAI-compatible endpoint (Ollama, LM Studio, a proxy); needs baseUrl.
  'openai-compatible',
  // The built-in offline provider that answers without network or keys (quickstart).
  'local',
] as const;

export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Other spellings accepted for `provider`, mapped to the canonical kind. */
export const PROVIDER_ALIASES: Readonly<Record<string, ProviderKind>> = {
  gemini: 'google-gemini',
  google: 'google-gemini',
  'azure-openai': 'azure',
  'aws-bedrock': 'bedrock',
  'vertex-ai': 'vertex',
  vertexai: 'vertex',
  'google-vertex': 'vertex',
  'together-ai': 'together',
  togetherai: 'together',
};

export function canonicalProvider(name: string): ProviderKind | undefined {
  const lower = name.toLowerCase();
  return (PROVIDER_KINDS as readonly string[]).includes(lower)
    ? (lower as ProviderKind)
    : PROVIDER_ALIASES[lower];
}

/** Self-hosted or generic endpoints have no default address, so `baseUrl` is required. */
export function requiresBaseUrl(provider: ProviderKind): boolean {
  return (
    provider === 'vllm' ||
    provider === 'kserve' ||
    provider === 'openai-compatible' ||
    provider === 'azure'
  );
}

// Checked in order: "azure-openai" must hit azure before openai, "google-gemini" is gemini,
// "vertex-gemini" is vertex.
const NAME_HINTS: ReadonlyArray<readonly [string, ProviderKind]> = [
  ['azure', 'azure'],
  ['bedrock', 'bedrock'],
  ['vertex', 'vertex'],
  ['gemini', 'google-gemini'],
  ['google', 'google-gemini'],
  ['anthropic', 'anthropic'],
  ['claude', 'anthropic'],
  ['openai', 'openai'],
  ['mistral', 'mistral'],
  ['cohere', 'cohere'],
  ['groq', 'groq'],
  ['deepseek', 'deepseek'],
  ['together', 'together'],
  ['vllm', 'vllm'],
  ['kserve', 'kserve'],
];

/** A provider guessed from a backend name such as "openai-primary" or "anthropic-fallback". */
export function providerFromBackendName(name: string): ProviderKind | undefined {
  const lower = name.toLowerCase();
  return NAME_HINTS.find(([hint]) => lower.includes(hint))?.[1];
}

// Bedrock model ids carry a vendor prefix ("anthropic.claude-3-sonnet-...-v1:0").
const BEDROCK_MODEL_ID = /^(amazon|anthropic|ai21|cohere|meta|mistral|stability)\.[a-z0-9]/;

const MODEL_FAMILIES: ReadonlyArray<readonly [RegExp, ProviderKind]> = [
  [/^(gpt-|chatgpt-|o1|o3|o4|text-embedding-|davinci|babbage|dall-e|whisper|tts-)/, 'openai'],
  [/^claude-/, 'anthropic'],
  [/^gemini-/, 'google-gemini'],
  [/^(mistral-|mixtral|codestral|ministral|pixtral|open-mistral)/, 'mistral'],
  [/^(command|embed-english|embed-multilingual|rerank-)/, 'cohere'],
  [/^deepseek-/, 'deepseek'],
];

/**
 * A provider guessed from the model family. Open-weight families (llama, qwen, ...) are
 * served by many hosts (Groq, Together, Bedrock, a vLLM box), so they are not guessed.
 */
export function providerFromModel(model: string): ProviderKind | undefined {
  const lower = model.toLowerCase();
  if (BEDROCK_MODEL_ID.test(lower)) return 'bedrock';
  return MODEL_FAMILIES.find(([family]) => family.test(lower))?.[1];
}

/** True for model families that several providers host, where a guess would be a coin toss. */
export function isOpenWeightModel(model: string): boolean {
  return /^(llama|meta-llama|qwen|phi|gemma|falcon|mpt|vicuna)/i.test(model);
}

/** How an API key is sent to a provider when the config names no header. */
export interface ApiKeyHeader {
  readonly headerName: string;
  readonly headerPrefix: string;
}

export function defaultApiKeyHeader(provider: ProviderKind): ApiKeyHeader {
  switch (provider) {
    case 'anthropic':
      return { headerName: 'x-api-key', headerPrefix: '' };
    case 'azure':
      return { headerName: 'api-key', headerPrefix: '' };
    case 'google-gemini':
      return { headerName: 'x-goog-api-key', headerPrefix: '' };
    case 'openai':
    case 'bedrock': // Bedrock API keys (not IAM) are bearer tokens.
    case 'vertex': // Unused: the secret is a service-account key, exchanged for a token.
    case 'mistral':
    case 'cohere':
    case 'groq':
    case 'deepseek':
    case 'together':
    case 'vllm':
    case 'kserve':
    case 'openai-compatible':
    case 'local':
      return { headerName: 'Authorization', headerPrefix: 'Bearer ' };
  }
}

/** Providers reached over the internet with a key; a backend of these without auth is suspicious. */
export function expectsApiKey(provider: ProviderKind): boolean {
  switch (provider) {
    case 'vllm':
    case 'kserve':
    case 'openai-compatible':
    case 'local':
    case 'bedrock':
    case 'vertex': // No key: the metadata server's token (Workload Identity).
      return false;
    case 'openai':
    case 'anthropic':
    case 'google-gemini':
    case 'azure':
    case 'mistral':
    case 'cohere':
    case 'groq':
    case 'deepseek':
    case 'together':
      return true;
  }
}
