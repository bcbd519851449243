// Attribute names of the OpenTelemetry GenAI semantic conventions, which are still in
// development: the semantic-conventions package keeps them in its `incubating` entry point
// and asks instrumentations to copy the ones they use rather than import it.
import type { Attributes } from '@opentelemetry/api';

export const GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
export const GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
export const GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream';
export const GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';
export const GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
export const GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = 'gen_ai.usage.cache_write.input_tokens';

/** The gateway's own attributes beside them. */
export const GATEWAY_ENDPOINT = 'ai_gateway.endpoint';
export const GATEWAY_REQUEST_ID = 'ai_gateway.request_id';
export const GATEWAY_USER = 'ai_gateway.user';
export const GATEWAY_TIER = 'ai_gateway.tier';
export const GATEWAY_STREAM = 'ai_gateway.stream';
export const GATEWAY_BACKEND = 'ai_gateway.backend';
export const GATEWAY_ATTEMPTS = 'ai_gateway.attempts';
/** The x-ai-gateway-* overrides a client narrowed the call with: timeout, retries, fallback. */
export const GATEWAY_OVERRIDES = 'ai_gateway.overrides';
export const GATEWAY_CACHED = 'ai_gateway.cached';
export const GATEWAY_USAGE_SOURCE = 'ai_gateway.usage.source';
export const GATEWAY_CLIENT_GONE = 'ai_gateway.client_gone';
/** An upstream attempt's number in the request's failover chain, from 1. */
export const GATEWAY_ATTEMPT = 'ai_gateway.attempt';
/** On a failed attempt: the failover trigger it set off, when the router tried another. */
export const GATEWAY_FAILOVER_TRIGGER = 'ai_gateway.failover.trigger';

/** The GenAI operation names of the gateway's operations. */
export const GEN_AI_OPERATION = {
  chat: 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
  transcriptions: 'transcriptions',
  translations: 'translations',
  speech: 'speech',
  images: 'images',
  'image-edits': 'image_edits',
  'image-variations': 'image_variations',
  moderations: 'moderations',
  rerank: 'rerank',
  realtime: 'realtime',
} as const;

/**
 * The conventions' well-known `gen_ai.provider.name` values for the providers the gateway
 * knows; any other (vllm, openai-compatible, ...) is reported as configured.
 */
export const GEN_AI_PROVIDER: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  'google-gemini': 'gcp.gemini',
  bedrock: 'aws.bedrock',
  vertex: 'gcp.vertex_ai',
  azure: 'azure.ai.openai',
  mistral: 'mistral_ai',
  cohere: 'cohere',
  groq: 'groq',
  deepseek: 'deepseek',
};

/** A call's token counts, as the data plane reports them (its TokenUsage). */
export interface SpanUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens: number;
  readonly cacheWriteInputTokens?: number;
  readonly source: string;
}

/** A call's tokens as span attributes: the cache's only when it read or wrote any. */
export function usageAttributes(usage: SpanUsage): Attributes {
  return {
    [GEN_AI_USAGE_INPUT_TOKENS]: usage.inputTokens,
    [GEN_AI_USAGE_OUTPUT_TOKENS]: usage.outputTokens,
    ...(usage.cachedInputTokens > 0
      ? { [GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: usage.cachedInputTokens }
      : {}),
    ...(usage.cacheWriteInputTokens
      ? { [GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS]: usage.cacheWriteInputTokens }
      : {}),
    [GATEWAY_USAGE_SOURCE]: usage.source,
  };
}
