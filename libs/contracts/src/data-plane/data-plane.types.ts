// The request path between ingress, router and provider-adapter. In one process these
// are direct calls; split into services the same shapes travel over HTTP. Nothing here
// depends on a framework, so every deployment shape shares it.

import type { TokenCounts } from '@aigw/config';
import type { AnthropicServerTool } from './anthropic-server-tools';

/** The OpenAI-compatible operations the data plane carries. */
export type Operation =
  | 'chat'
  | 'completions'
  | 'embeddings'
  | 'transcriptions'
  | 'translations'
  | 'speech'
  | 'images'
  | 'image-edits'
  | 'image-variations'
  | 'moderations'
  | 'rerank'
  /** A Realtime API session (a WebSocket): one usage event per `response.done`. */
  | 'realtime';

/** The operations whose request carries an audio file (`uploads`) instead of a prompt. */
export const AUDIO_OPERATIONS: ReadonlySet<Operation> = new Set(['transcriptions', 'translations']);

/** OpenAI's audio API (speech to text and text to speech): its own endpoints, few providers. */
export const AUDIO_API_OPERATIONS: ReadonlySet<Operation> = new Set([
  'transcriptions',
  'translations',
  'speech',
]);

/** The image operations (generation, and edits and variations of uploaded images). */
export const IMAGE_OPERATIONS: ReadonlySet<Operation> = new Set([
  'images',
  'image-edits',
  'image-variations',
]);

/**
 * The operations that score their input and generate nothing, each served by few
 * providers: content moderation (OpenAI's `/v1/moderations`) and document reranking
 * (Cohere's `/v2/rerank` shape, which vLLM also serves).
 */
export const SCORING_OPERATIONS: ReadonlySet<Operation> = new Set(['moderations', 'rerank']);

/** The media operations (audio and images): billed and held by their own units too. */
export const MEDIA_OPERATIONS: ReadonlySet<Operation> = new Set([
  ...AUDIO_API_OPERATIONS,
  ...IMAGE_OPERATIONS,
]);

/**
 * A file the client sent in a multipart request (the audio to transcribe, the image to
 * edit), held once in memory so a failover can send it again; adapters write it into their
 * own upstream form.
 */
export interface Upload {
  /** The form field it came in (`file`). */
  readonly field: string;
  readonly filename: string;
  readonly contentType: string;
  readonly data: Uint8Array;
}

/** A JSON object as parsed once at the edge; adapters translate from it. */
export type JsonObject = { [key: string]: unknown };

/** What the caller is, as ingress determined it. */
export interface CallerContext {
  /** The key budgets and events are partitioned by (user id, or 'anonymous'). */
  readonly userKey: string;
  /**
   * The key the caller's budgets are kept under, when it is not `userKey`: where the
   * configuration identifies users more than one way, `userKey` qualified by how it was
   * identified (`jwt:auth0:sub:alice`, `header:x-user-id:alice`), so a header cannot name
   * a JWT user's budget. Absent: `userKey` is the budget key (see callerBudgetKey).
   */
  readonly budgetKey?: string;
  /** The tier the caller matched, if tiers are configured. */
  readonly tier?: string;
}

/** The key the caller's budgets are kept under. */
export function callerBudgetKey(caller: CallerContext): string {
  return caller.budgetKey ?? caller.userKey;
}

/**
 * The key the caller's stored objects (responses, conversations, files, batches) are owned
 * under: the budget key, so one id named two ways (two JWT providers' `alice`) is two owners.
 * Where users are identified one way it is the user key, as owners always were.
 */
export function callerOwnerKey(caller: CallerContext): string {
  return callerBudgetKey(caller);
}

/** A request on its way to a provider, in OpenAI wire format. */
export interface GatewayRequest {
  readonly requestId: string;
  readonly operation: Operation;
  /** The model the client asked for: the name it must see in every response. */
  readonly requestedModel: string;
  readonly stream: boolean;
  /** Whether the client asked for the usage-only chunk at the end of a stream. */
  readonly clientWantsStreamUsage: boolean;
  readonly body: JsonObject;
  /** The files of a multipart request, in form order; `body` holds its other fields. */
  readonly uploads?: readonly Upload[];
  readonly caller: CallerContext;
  /** The budget hold taken at admission; the usage event settles it. */
  readonly reservationId?: string;
  /**
   * The input tokens the prompt's files named by a backend's id may bill (a PDF's pages
   * counted at its upload), which its body, naming them only, cannot tell: set by the edge
   * that resolved the gateway's file ids, added to the prompt estimate by admission.
   */
  readonly heldFileTokens?: number;
  /** The PDF pages of those files, each also read as an image (held as its images are). */
  readonly heldFilePages?: number;
  /**
   * Models admission passed over for this request alone (a per-model limit smaller than it
   * may cost in a whole window): the router turns them away for it, with no store read, so
   * it never calls one with nothing held (a later model of the chain holds its room).
   */
  readonly passedOverModels?: readonly string[];
  /**
   * The output admission held for each choice of a request that sets no `max_tokens`
   * (AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS): an adapter whose provider requires a cap
   * (Claude's `max_tokens`) sends this one, so the provider writes no more than was held.
   * Absent (a peer of an older build, a call not admitted): the adapter's own 4096.
   */
  readonly defaultMaxOutputTokens?: number;
  /**
   * The output admission held for each choice of a request that sets no `max_tokens`, as it
   * reckoned it: the default above, at least REASONING_DEFAULT_MAX_OUTPUT_TOKENS for a
   * request that asks for reasoning, after the client's thinking budget. A Claude adapter
   * sends it as it is, so what Claude is asked for cannot differ from what was held.
   * Absent (a peer of an older build, a call not admitted, a request with `max_tokens`):
   * the adapter reckons it from `defaultMaxOutputTokens` as before. Both go on together
   * while an adapter of an older build, which reads only the default, may get the request.
   */
  readonly heldOutputTokens?: number;
  /** Models the caller's tier may use; empty means any. */
  readonly allowedModels: readonly string[];
  /** Headers the client sent that may travel upstream (already sanitized). */
  readonly forwardHeaders: Readonly<Record<string, string>>;
  /**
   * The W3C Trace Context of the edge's span when the edge traces, so the spans of the
   * services after it join its trace. Never sent to a provider: `forwardHeaders` holds what
   * the provider may see (a route that strips `traceparent` has it only here).
   */
  readonly traceContext?: TraceContext;
  /** What the client narrowed for this call (`x-ai-gateway-*` headers); absent when nothing. */
  readonly overrides?: RequestOverrides;
}

/**
 * A client's per-request narrowing of the route's failover settings. Each only narrows:
 * the router clamps it to what the operator configured.
 */
export interface RequestOverrides {
  /** The whole call's deadline in milliseconds, failover attempts and delays included. */
  readonly timeoutMs?: number;
  /** Calls after the first (as `failover.retryAttempts` counts them): 0 is one call. */
  readonly retries?: number;
  /** false: the first backend of the chain only, no failover to others or cheaper models. */
  readonly fallback?: false;
}

/** A span's W3C Trace Context, as its headers carry it. */
export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/**
 * What one call used, in every measure a price may bill (`TokenCounts`, declared once with
 * the prices that read it). `source` says whether a provider reported them.
 */
export interface TokenUsage extends TokenCounts {
  readonly cachedInputTokens: number;
  readonly source: 'reported' | 'estimated';
  /**
   * The server tool runs the provider reported (Anthropic's `usage.server_tool_use`: web
   * searches, web fetches), billed per request beside the tokens; absent when none.
   */
  readonly serverToolRequests?: ServerToolRequests;
  /**
   * The model the provider named in its answer where it differs from the one it was sent:
   * an Azure deployment (`prod-chat`) answers as the model it runs (`gpt-4o-2024-08-06`).
   * Priced unless the route prices the model sent (`servedModelPrice`).
   */
  readonly answeredModel?: string;
}

/** Runs per server tool (anthropic-server-tools.ts), as the provider counted them. */
export type ServerToolRequests = Readonly<Partial<Record<AnthropicServerTool, number>>>;

/**
 * The request settings an adapter may leave out of a provider request, by the canonical
 * request's names (provider_extras' fields by theirs): a closed set, so that a metric label
 * or a log line never carries a name a client chose.
 */
export const REQUEST_SETTINGS = [
  'temperature',
  'top_p',
  'top_k',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'safety_settings',
  'task_type',
  'title',
  'service_tier',
  'parallel_tool_calls',
  // A Messages client's Claude features that only Anthropic's own API takes: context
  // editing (provider_extras.context_management), output_config.task_budget, and a tool's
  // strict: true. Claude on Bedrock and Vertex AI answers without them.
  'context_management',
  'task_budget',
  'strict',
] as const;
export type RequestSetting = (typeof REQUEST_SETTINGS)[number];

/**
 * What an adapter may leave out beyond REQUEST_SETTINGS: asked for in ways no one field
 * names, and left out only for a reason of the adapter's own, so no adapter is checked for
 * taking it (`unsupported` is never reported for it). `reasoning`: the thinking a client
 * asked for (reasoning_effort, a thinking budget, a Gemini thinkingConfig).
 */
export const FEATURES_LEFT_OUT = ['reasoning'] as const;
export type DroppedSettingName = RequestSetting | (typeof FEATURES_LEFT_OUT)[number];

/**
 * Why a setting was left out: `model`, the model refuses it (Claude Opus 4.7 any sampling);
 * `thinking`, it is refused with thinking on; `unsupported`, the provider has no such setting;
 * `tool_loop`, Claude's budget thinking on a tool loop whose first tool-calling turn came back
 * without its signed thinking (Claude refuses such a turn with thinking on).
 */
export const SETTING_DROP_REASONS = ['model', 'thinking', 'unsupported', 'tool_loop'] as const;
export type SettingDropReason = (typeof SETTING_DROP_REASONS)[number];

/** A setting the client asked for that the provider request left out; never its value. */
export interface DroppedSetting {
  readonly setting: DroppedSettingName;
  readonly reason: SettingDropReason;
}

/** Which backend finally served a request. */
export interface ServedBy {
  readonly backend: string;
  /**
   * The route (AIGatewayRoute name) whose backend answered: backend names are unique only
   * within a route, so usage is priced by (route, backend). Absent from a peer of an older
   * build, whose usage is then priced by the backend name alone.
   */
  readonly route?: string;
  readonly provider: string;
  /** The model name the provider ran (may differ from the requested one). */
  readonly model: string;
  /** Backends tried for this request, the one that answered included (set by the router). */
  readonly attempts?: number;
  /** The settings the client asked for that the adapter left out; absent when none. */
  readonly droppedSettings?: readonly DroppedSetting[];
}

/** A complete, non-streamed answer, already in OpenAI wire format. */
export interface JsonAnswer {
  readonly kind: 'json';
  readonly status: number;
  readonly body: JsonObject;
  /**
   * Set when the answer is not JSON (a transcription as text, srt or vtt): `body.text` is
   * the whole answer, sent to the client as this media type.
   */
  readonly mediaType?: string;
  readonly usage: TokenUsage;
  readonly servedBy: ServedBy;
}

/**
 * A streamed answer. `events` yields OpenAI chunk objects (already carrying the model
 * name the client asked for); it throws a DataPlaneError if the stream breaks midway.
 * `usage` settles once the stream ended (or failed).
 */
export interface StreamAnswer {
  readonly kind: 'stream';
  readonly status: number;
  readonly events: AsyncIterable<JsonObject>;
  readonly usage: Promise<TokenUsage>;
  readonly servedBy: ServedBy;
}

export type GatewayAnswer = JsonAnswer | StreamAnswer;

/** Answers a request by routing it: implemented by the router, in-process or over HTTP. */
export interface RouterPort {
  route(request: GatewayRequest, signal: AbortSignal): Promise<GatewayAnswer>;
  /** The model names a client may ask for. */
  listModels(): readonly string[];
}

/** A secret value that is only read at the moment it is injected into a header. */
export interface RevealableSecret {
  reveal(): string;
}

/** Where and how to reach one backend; built by the router from configuration. */
export interface UpstreamTarget {
  readonly backendName: string;
  /** The route the backend belongs to: names a backend unambiguously with `backendName`. */
  readonly routeName?: string;
  /** The provider kind from configuration (openai, anthropic, vllm, local, ...). */
  readonly provider: string;
  /** The model the provider runs for this call. */
  readonly model: string;
  readonly baseUrl?: string;
  /** Provider vertex: the Google Cloud project and location its models are called in. */
  readonly vertex?: { readonly project: string; readonly location: string };
  readonly credential?: {
    readonly headerName: string;
    readonly headerPrefix: string;
    readonly apiKey: RevealableSecret;
  };
  readonly requestTimeoutMs: number;
  readonly firstByteTimeoutMs: number;
}

/** One attempt at one backend. */
export interface ProviderCall {
  readonly request: GatewayRequest;
  readonly target: UpstreamTarget;
  readonly signal: AbortSignal;
  /**
   * Set by a caller that may give up a stream before its first event and try another
   * backend (the router failing over). Absent, a stream's usage settles the request's hold.
   */
  readonly streamCommit?: StreamCommit;
  /**
   * Set with a stream by a caller that gives the attempt up when no event came within this
   * many milliseconds (the router's first-byte timeout). A provider across a hop times the
   * backend against it too, so it reports the timeout itself; one in-process needs not.
   */
  readonly firstEventTimeoutMs?: number;
}

/**
 * Whether a stream attempt's caller kept it (its first event came) or gave it up before
 * (failing over, or failing the request). Its usage settles the request's budget hold only
 * if kept; one given up only spends, so the hold stays for the attempt that serves, or for
 * the edge to release. Usage known before the decision (it may resolve before the caller's
 * catch runs) waits for it.
 */
export interface StreamCommit {
  /** Calls `then` once the caller decided (at once when it has): true if it kept the stream. */
  decided(then: (kept: boolean) => void): void;
}

/**
 * Calls a provider: implemented by the provider-adapter, in-process or over HTTP.
 * Answers carry the model the provider ran; the router renames it for the client.
 */
export interface ProviderPort {
  invoke(call: ProviderCall): Promise<GatewayAnswer>;
}

/** Injection tokens for the ports, shared by every deployment shape. */
export const ROUTER_PORT = Symbol('ROUTER_PORT');
export const PROVIDER_PORT = Symbol('PROVIDER_PORT');
