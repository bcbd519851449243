import { canonicalProvider, type ProviderKind } from '@aigw/config';
import {
  AUDIO_API_OPERATIONS,
  IMAGE_OPERATIONS,
  type GatewayRequest,
  type Operation,
} from '@aigw/contracts/data-plane';

/**
 * Providers whose API serves OpenAI's audio endpoints in its wire format: OpenAI, Azure
 * OpenAI, Groq, Mistral and Together (Whisper and its successors), and the self-hosted
 * OpenAI-compatible servers (vLLM serves Whisper). Anthropic, Gemini, Bedrock, Cohere,
 * DeepSeek and the offline `local` provider have no such endpoint.
 */
const AUDIO_PROVIDERS: ReadonlySet<ProviderKind> = new Set<ProviderKind>([
  'openai',
  'azure',
  'groq',
  'mistral',
  'together',
  'vllm',
  'kserve',
  'openai-compatible',
]);

/**
 * Providers with OpenAI's image generation endpoint: OpenAI, Azure OpenAI, Together, and
 * generic OpenAI-compatible servers (LocalAI and the like); vLLM, Groq, Mistral have none.
 */
const IMAGE_PROVIDERS: ReadonlySet<ProviderKind> = new Set<ProviderKind>([
  'openai',
  'azure',
  'together',
  'openai-compatible',
]);

/** Whether only some providers serve `operation` (audio, images), so chains are filtered. */
export function isSpecialOperation(operation: Operation): boolean {
  return AUDIO_API_OPERATIONS.has(operation) || IMAGE_OPERATIONS.has(operation);
}

/** Whether a backend of `provider` can serve `operation` at all (so it is worth a call). */
export function servesOperation(provider: string, operation: Operation): boolean {
  const providers = AUDIO_API_OPERATIONS.has(operation)
    ? AUDIO_PROVIDERS
    : IMAGE_OPERATIONS.has(operation)
      ? IMAGE_PROVIDERS
      : undefined;
  if (!providers) return true;
  const kind = canonicalProvider(provider);
  return kind !== undefined && providers.has(kind);
}

/**
 * Whether a backend of `provider` can serve `request`: its operation, and speech as
 * server-sent events (`stream_format: "sse"`), which Azure OpenAI's speech API lacks (its
 * deployment endpoint answers audio only), so an Azure backend is no candidate for it.
 */
export function servesRequest(
  provider: string,
  request: Pick<GatewayRequest, 'operation' | 'body'>,
): boolean {
  if (!servesOperation(provider, request.operation)) return false;
  return !(isSpeechAsEvents(request) && canonicalProvider(provider) === 'azure');
}

/** A speech request asking for server-sent events rather than the audio itself. */
export function isSpeechAsEvents(request: Pick<GatewayRequest, 'operation' | 'body'>): boolean {
  return request.operation === 'speech' && request.body.stream_format === 'sse';
}
