import { canonicalProvider, type ProviderKind } from '@aigw/config';
import {
  anthropicServerToolsAsked,
  asksImageOutput,
  AUDIO_API_OPERATIONS,
  DataPlaneError,
  DataPlaneErrorCode,
  geminiToolsAsked,
  IMAGE_OPERATIONS,
  inferenceGeoAsked,
  serverToolRunners,
  VERTEX_CLAUDE_SERVER_TOOLS,
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

/**
 * Providers with OpenAI's image variations endpoint (dall-e-2): OpenAI and generic
 * OpenAI-compatible servers. Azure OpenAI's deployments have no variations route, and
 * Together none.
 */
const IMAGE_VARIATION_PROVIDERS: ReadonlySet<ProviderKind> = new Set<ProviderKind>([
  'openai',
  'openai-compatible',
]);

/**
 * Providers with OpenAI's moderations endpoint: OpenAI, and generic OpenAI-compatible
 * servers (a proxy in front of it). Azure OpenAI has none (its content filters run inside
 * its other calls); Mistral's has another shape; vLLM, Groq and Together have none.
 */
const MODERATION_PROVIDERS: ReadonlySet<ProviderKind> = new Set<ProviderKind>([
  'openai',
  'openai-compatible',
]);

/**
 * Providers with a rerank endpoint in Cohere's shape: Cohere (/v2/rerank), vLLM and
 * KServe's vLLM runtime, Together, and generic OpenAI-compatible servers (LiteLLM,
 * Infinity) at {baseUrl}/rerank. OpenAI, Azure OpenAI and the rest have none.
 */
const RERANK_PROVIDERS: ReadonlySet<ProviderKind> = new Set<ProviderKind>([
  'cohere',
  'vllm',
  'kserve',
  'together',
  'openai-compatible',
]);

/**
 * Providers with OpenAI's text completions: OpenAI, Azure OpenAI, Together, DeepSeek (its
 * FIM, under its beta base URL: the adapter refuses it elsewhere) and the self-hosted
 * OpenAI-compatible servers, and the offline `local`. Anthropic, Gemini, Vertex, Bedrock,
 * Cohere, Mistral and Groq have none.
 */
const COMPLETION_PROVIDERS: ReadonlySet<ProviderKind> = new Set<ProviderKind>([
  'openai',
  'azure',
  'together',
  'deepseek',
  'vllm',
  'kserve',
  'openai-compatible',
  'local',
]);

/**
 * Providers with an embeddings API the adapters speak: every one but Anthropic (which has
 * none), Groq and DeepSeek.
 */
const EMBEDDING_PROVIDERS: ReadonlySet<ProviderKind> = new Set<ProviderKind>([
  'openai',
  'azure',
  'google-gemini',
  'vertex',
  'bedrock',
  'cohere',
  'mistral',
  'together',
  'vllm',
  'kserve',
  'openai-compatible',
  'local',
]);

/** The providers of each operation that only some serve; chat is on every one. */
const FEW_PROVIDERS: ReadonlyMap<Operation, ReadonlySet<ProviderKind>> = new Map([
  ...[...AUDIO_API_OPERATIONS].map((operation) => [operation, AUDIO_PROVIDERS] as const),
  ...[...IMAGE_OPERATIONS].map((operation) => [operation, IMAGE_PROVIDERS] as const),
  ['image-variations', IMAGE_VARIATION_PROVIDERS], // after the images': fewer serve it
  ['moderations', MODERATION_PROVIDERS],
  ['rerank', RERANK_PROVIDERS],
  // A backend refusing these was no failover target (its 400 is no trigger): filtered too.
  ['completions', COMPLETION_PROVIDERS],
  ['embeddings', EMBEDDING_PROVIDERS],
]);

/**
 * Whether only some providers serve `operation` (completions, embeddings, audio, images,
 * moderations, rerank), so chains are filtered.
 */
function isSpecialOperation(operation: Operation): boolean {
  return FEW_PROVIDERS.has(operation); // one look-up: chat pays nothing more
}

/** The backends to route `operation` to, for an error saying none of a chain can serve it. */
export function providersServing(operation: Operation): string {
  if (operation === 'rerank')
    return 'a Cohere, vLLM, KServe, Together or OpenAI-compatible backend';
  if (operation === 'moderations' || operation === 'image-variations') {
    return 'an OpenAI or OpenAI-compatible backend';
  }
  return 'an OpenAI, Azure OpenAI or OpenAI-compatible backend that does';
}

/** Whether a backend of `provider` can serve `operation` at all (so it is worth a call). */
export function servesOperation(provider: string, operation: Operation): boolean {
  const providers = FEW_PROVIDERS.get(operation);
  if (!providers) return true;
  const kind = canonicalProvider(provider);
  return kind !== undefined && providers.has(kind);
}

/**
 * Whether the chain must be filtered for `request`: an operation only some providers
 * serve, or a chat asking for Gemini's built-in tools (googleSearch, codeExecution...) or
 * for image output (responseModalities IMAGE), which only Gemini backends serve, for
 * Anthropic's server tools, which only Anthropic backends (and Claude on Vertex, for web
 * search) run, or for an inference_geo, which only Anthropic's own API keeps. Everything
 * else is served by every backend.
 */
export function isSpecialRequest(request: Pick<GatewayRequest, 'operation' | 'body'>): boolean {
  return (
    isSpecialOperation(request.operation) ||
    asksGeminiOnly(request) ||
    asksServerTools(request) ||
    asksInferenceGeo(request)
  );
}

/**
 * A chat asking to be kept in a geography (a Messages client's inference_geo other than
 * "global"), which only Anthropic's own API keeps: the others run where their endpoint's
 * region is, and refuse it with a 400.
 */
function asksInferenceGeo(request: Pick<GatewayRequest, 'operation' | 'body'>): boolean {
  return (
    request.operation === 'chat' &&
    request.body.provider_extras !== undefined &&
    inferenceGeoAsked(request.body) !== undefined
  );
}

/**
 * The 400 for an inference_geo no backend of the request's model keeps (none is
 * Anthropic's own API); undefined for a request asking none.
 */
function unservedInferenceGeo(
  request: Pick<GatewayRequest, 'operation' | 'body' | 'requestedModel'>,
): DataPlaneError | undefined {
  if (!asksInferenceGeo(request)) return undefined;
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `inference_geo "${inferenceGeoAsked(request.body)}" is kept by Anthropic backends only, ` +
      `and no backend of "${request.requestedModel}" is one: route the model to an Anthropic ` +
      'backend, or leave inference_geo out',
    { param: 'inference_geo' },
  );
}

/** A chat asking for Anthropic's server tools (web search...), which Anthropic runs itself. */
function asksServerTools(request: Pick<GatewayRequest, 'operation' | 'body'>): boolean {
  return (
    request.operation === 'chat' &&
    request.body.provider_extras !== undefined &&
    anthropicServerToolsAsked(request.body).length > 0
  );
}

/**
 * Whether a backend runs every server tool `request` asks for: Anthropic's own API runs
 * them all; Claude on Vertex AI web search only (Google's docs); no other backend any.
 */
export function runsServerTools(
  provider: string,
  model: string,
  request: Pick<GatewayRequest, 'body'>,
): boolean {
  const kind = canonicalProvider(provider);
  if (kind === 'anthropic') return true;
  if (kind !== 'vertex' || !VERTEX_CLAUDE.test(model)) return false;
  return anthropicServerToolsAsked(request.body).every((tool) =>
    VERTEX_CLAUDE_SERVER_TOOLS.has(tool),
  );
}

/**
 * A chat only a Gemini backend can answer: it asks for Gemini's built-in tools, or for
 * image output (a Gemini client's responseModalities IMAGE), which no other backend makes.
 */
function asksGeminiOnly(request: Pick<GatewayRequest, 'operation' | 'body'>): boolean {
  // A plain chat (no provider_extras) is answered without building the list of tools.
  return (
    request.operation === 'chat' &&
    request.body.provider_extras !== undefined &&
    (geminiToolsAsked(request.body).length > 0 || asksImageOutput(request.body))
  );
}

/** A Claude model on Vertex AI (Anthropic's publisher), which runs no Gemini tool. */
const VERTEX_CLAUDE = /^(publishers\/anthropic\/|claude-)/i;

/**
 * Whether a backend runs Gemini's built-in tools: Google's Gemini API, and Vertex AI's
 * Gemini models (not its Claude models, which the same provider serves).
 */
export function runsGeminiTools(provider: string, model: string): boolean {
  const kind = canonicalProvider(provider);
  return kind === 'google-gemini' || (kind === 'vertex' && !VERTEX_CLAUDE.test(model));
}

/**
 * The 400 for a chat asking for what only some providers serve (Gemini's built-in tools or
 * image output, Anthropic's server tools, an inference_geo) of a model none of whose
 * backends serves it, naming what it asked; undefined for any other request.
 */
export function unservedProviderFeature(
  request: Pick<GatewayRequest, 'operation' | 'body' | 'requestedModel'>,
): DataPlaneError | undefined {
  if (asksServerTools(request)) return unservedServerTools(request);
  if (!asksGeminiOnly(request)) return unservedInferenceGeo(request);
  const [tool] = geminiToolsAsked(request.body);
  const geminiOnly = tool ?? 'generationConfig.responseModalities IMAGE';
  if (asksInferenceGeo(request)) return geoBesideGeminiOnly(request, geminiOnly);
  if (tool === undefined) return unservedImageOutput(request);
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `the ${tool} tool is run by Gemini and Vertex Gemini backends only, and no backend of ` +
      `"${request.requestedModel}" is one: route the model to a Gemini backend, or leave ${tool} out`,
    { param: 'tools' },
  );
}

/**
 * The 400 for an inference_geo beside what only Gemini backends serve (a built-in tool,
 * image output): only Anthropic's own API keeps a geography, so no backend of any model
 * serves the request, and the client must drop one of the two.
 */
function geoBesideGeminiOnly(
  request: Pick<GatewayRequest, 'body'>,
  geminiOnly: string,
): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `inference_geo "${inferenceGeoAsked(request.body)}" is kept by Anthropic backends only and ` +
      `${geminiOnly} is served by Gemini and Vertex Gemini backends only: no backend does ` +
      'both, so leave one of them out',
    { param: 'inference_geo' },
  );
}

/**
 * The 400 for image output (responseModalities IMAGE) of a model none of whose backends
 * makes images: Gemini and Vertex Gemini backends only do.
 */
function unservedImageOutput(request: Pick<GatewayRequest, 'requestedModel'>): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    'generationConfig.responseModalities IMAGE is answered by Gemini and Vertex Gemini ' +
      `backends only, and no backend of "${request.requestedModel}" is one: route the model ` +
      'to a Gemini backend, or ask for TEXT only',
    { param: 'generationConfig.responseModalities' },
  );
}

/**
 * The 400 for a request asking for an Anthropic server tool that no backend of its model
 * runs, naming the tool and the backends that do (the Messages edge answers it in
 * Anthropic's error shape).
 */
function unservedServerTools(
  request: Pick<GatewayRequest, 'body' | 'requestedModel'>,
): DataPlaneError {
  const asked = anthropicServerToolsAsked(request.body);
  const tool = asked.find((name) => !VERTEX_CLAUDE_SERVER_TOOLS.has(name)) ?? asked[0];
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `the ${tool} server tool is run by ${serverToolRunners(tool)} only, and no backend of ` +
      `"${request.requestedModel}" is one: route the model to such a backend, or leave ${tool} out`,
    { param: 'tools' },
  );
}

/**
 * Whether a backend of `provider` (calling `model`) can serve `request`: its operation,
 * and speech as server-sent events (`stream_format: "sse"`), which Azure OpenAI's speech
 * API lacks (its deployment endpoint answers audio only), so an Azure backend is no
 * candidate for it; image streams only on the providers that send their events;
 * Gemini's built-in tools only on Gemini backends; Anthropic's server tools only on
 * the backends that run them (runsServerTools); and an inference_geo on Anthropic's own
 * API only.
 */
export function servesRequest(
  provider: string,
  request: Pick<GatewayRequest, 'operation' | 'body'>,
  model: string,
): boolean {
  // Checked first: the backends that run the tools asked for must keep the geography too.
  if (asksInferenceGeo(request) && canonicalProvider(provider) !== 'anthropic') return false;
  if (asksGeminiOnly(request)) return runsGeminiTools(provider, model);
  if (asksServerTools(request)) return runsServerTools(provider, model, request);
  if (!servesOperation(provider, request.operation)) return false;
  const kind = canonicalProvider(provider);
  if (isImageStream(request)) return kind !== undefined && IMAGE_STREAM_PROVIDERS.has(kind);
  return !(isSpeechAsEvents(request) && kind === 'azure');
}

/**
 * Providers that stream gpt-image events (`stream: true` on images and edits): OpenAI,
 * Azure OpenAI and generic OpenAI-compatible servers. Together's image API answers whole.
 */
const IMAGE_STREAM_PROVIDERS: ReadonlySet<ProviderKind> = new Set<ProviderKind>([
  'openai',
  'azure',
  'openai-compatible',
]);

/** An image generation or edit asking for its events (`stream: true`). */
export function isImageStream(request: Pick<GatewayRequest, 'operation' | 'body'>): boolean {
  return IMAGE_OPERATIONS.has(request.operation) && request.body.stream === true;
}

/** A speech request asking for server-sent events rather than the audio itself. */
export function isSpeechAsEvents(request: Pick<GatewayRequest, 'operation' | 'body'>): boolean {
  return request.operation === 'speech' && request.body.stream_format === 'sse';
}
