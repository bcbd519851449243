import { ANTHROPIC_SERVER_TOOLS, type AnthropicServerTool } from '../anthropic-server-tools';
import { DataPlaneError, DataPlaneErrorCode } from '../data-plane.errors';
import { MALFORMED_WIRE_MESSAGE } from './wire-errors';
import {
  FEATURES_LEFT_OUT,
  REQUEST_SETTINGS,
  SETTING_DROP_REASONS,
  type DroppedSetting,
  type GatewayRequest,
  type JsonAnswer,
  type JsonObject,
  type Operation,
  type RequestOverrides,
  type ServedBy,
  type TokenUsage,
  type TraceContext,
  type Upload,
} from '../data-plane.types';

/** What the router tells the provider-adapter about a backend: names only, no secrets. */
export interface WireTarget {
  readonly backendName: string;
  /** The backend's route; absent from a router of an older build (then the name alone). */
  readonly routeName?: string;
  readonly provider: string;
  readonly model: string;
}

export interface InvokeMessage {
  readonly request: GatewayRequest;
  readonly target: WireTarget;
}

const OPERATIONS: ReadonlySet<string> = new Set<Operation>([
  'chat',
  'completions',
  'embeddings',
  'transcriptions',
  'translations',
  'speech',
  'images',
  'image-edits',
  'image-variations',
  'moderations',
  'rerank',
  'realtime',
]);

export function encodeRouteRequest(request: GatewayRequest): string {
  return JSON.stringify({ request: wireRequest(request) });
}

export function encodeInvokeRequest(request: GatewayRequest, target: WireTarget): string {
  return JSON.stringify({ request: wireRequest(request), target });
}

/** A request's uploaded files travel as base64 (JSON has no bytes); the rest as it is. */
function wireRequest(request: GatewayRequest): unknown {
  if (!request.uploads) return request;
  const uploads = request.uploads.map(({ data, ...upload }) => ({
    ...upload,
    base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
  }));
  return { ...request, uploads };
}

/** How much larger a body grows on the wire: an uploaded file's base64 is 4/3 of it. */
export function wireBodyBytes(clientBodyBytes: number): number {
  return Math.ceil(clientBodyBytes / 3) * 4;
}

/** Reads `{"request": ...}` sent by an ingress. */
export function decodeRouteRequest(message: unknown): GatewayRequest {
  return gatewayRequest(field(asObject(message, 'message'), 'request'));
}

/** Reads `{"request": ..., "target": ...}` sent by a router. */
export function decodeInvokeRequest(message: unknown): InvokeMessage {
  const object = asObject(message, 'message');
  const target = asObject(field(object, 'target'), 'target');
  const routeName = optionalStr(target, 'routeName', 'target');
  return {
    request: gatewayRequest(field(object, 'request')),
    target: {
      backendName: str(target, 'backendName', 'target'),
      ...(routeName === undefined ? {} : { routeName }),
      provider: str(target, 'provider', 'target'),
      model: str(target, 'model', 'target'),
    },
  };
}

/** Reads a JSON answer envelope; a malformed one is the peer's fault (bad response). */
export function decodeJsonAnswer(message: unknown, peer: string): JsonAnswer {
  try {
    const object = asObject(message, 'answer');
    const status = object.status;
    const mediaType = object.mediaType;
    if (mediaType !== undefined && typeof mediaType !== 'string') throw malformed('mediaType');
    return {
      kind: 'json',
      status: typeof status === 'number' ? status : 200,
      body: asObject(field(object, 'body'), 'body'),
      usage: decodeUsage(field(object, 'usage')),
      servedBy: decodeServedBy(field(object, 'servedBy')),
      ...(mediaType === undefined ? {} : { mediaType }),
    };
  } catch (error) {
    throw badAnswer(peer, error);
  }
}

export function decodeServedBy(value: unknown): ServedBy {
  const object = asObject(value, 'servedBy');
  const attempts = object.attempts;
  const dropped = droppedSettings(object.droppedSettings);
  const route = optionalStr(object, 'route', 'servedBy');
  return {
    backend: str(object, 'backend', 'servedBy'),
    ...(route === undefined ? {} : { route }),
    provider: str(object, 'provider', 'servedBy'),
    model: str(object, 'model', 'servedBy'),
    ...(typeof attempts === 'number' ? { attempts } : {}),
    ...(dropped.length > 0 ? { droppedSettings: dropped } : {}),
  };
}

const SETTINGS: ReadonlySet<string> = new Set([...REQUEST_SETTINGS, ...FEATURES_LEFT_OUT]);
const DROP_REASONS: ReadonlySet<string> = new Set(SETTING_DROP_REASONS);

/**
 * The dropped settings a peer reported. Only names of the closed sets are kept: one a peer
 * of a newer build knows and this one does not is left out, not taken as a label, and so
 * is an entry of another shape (a newer peer's bare name): a note about settings must not
 * fail the answer it came with.
 */
function droppedSettings(value: unknown): DroppedSetting[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw malformed('servedBy.droppedSettings');
  return value.flatMap((item: unknown) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return [];
    const { setting, reason } = item as JsonObject;
    return typeof setting === 'string' &&
      SETTINGS.has(setting) &&
      typeof reason === 'string' &&
      DROP_REASONS.has(reason)
      ? [{ setting, reason } as DroppedSetting]
      : [];
  });
}

export function decodeUsage(value: unknown): TokenUsage {
  const object = asObject(value, 'usage');
  const count = (name: string): number => {
    const n = object[name];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw malformed(`usage.${name}`);
    return n;
  };
  // Optional: a peer of an older build sends none, and none means nothing was written.
  const written = object.cacheWriteInputTokens === undefined ? 0 : count('cacheWriteInputTokens');
  const writtenFor1h =
    object.cacheWrite1hInputTokens === undefined ? 0 : count('cacheWrite1hInputTokens');
  const audioSeconds = object.audioSeconds === undefined ? undefined : count('audioSeconds');
  const audioInput = object.audioInputTokens === undefined ? 0 : count('audioInputTokens');
  const audioOutput = object.audioOutputTokens === undefined ? 0 : count('audioOutputTokens');
  const imageInput = object.imageInputTokens === undefined ? 0 : count('imageInputTokens');
  const imageOutput = object.imageOutputTokens === undefined ? 0 : count('imageOutputTokens');
  const characters = object.characters === undefined ? undefined : count('characters');
  const images = object.images === undefined ? undefined : count('images');
  const searches = object.searches === undefined ? undefined : count('searches');
  const variant = object.imageVariant;
  if (variant !== undefined && typeof variant !== 'string') throw malformed('usage.imageVariant');
  const answered = object.answeredModel;
  if (answered !== undefined && typeof answered !== 'string')
    throw malformed('usage.answeredModel');
  const tier = object.serviceTier;
  if (tier !== undefined && typeof tier !== 'string') throw malformed('usage.serviceTier');
  const geo = object.inferenceGeo;
  if (geo !== undefined && typeof geo !== 'string') throw malformed('usage.inferenceGeo');
  return {
    inputTokens: count('inputTokens'),
    outputTokens: count('outputTokens'),
    cachedInputTokens: count('cachedInputTokens'),
    ...(written > 0 ? { cacheWriteInputTokens: written } : {}),
    ...(writtenFor1h > 0 ? { cacheWrite1hInputTokens: writtenFor1h } : {}),
    ...(audioInput > 0 ? { audioInputTokens: audioInput } : {}),
    ...(audioOutput > 0 ? { audioOutputTokens: audioOutput } : {}),
    ...(imageInput > 0 ? { imageInputTokens: imageInput } : {}),
    ...(imageOutput > 0 ? { imageOutputTokens: imageOutput } : {}),
    ...(audioSeconds === undefined ? {} : { audioSeconds }),
    ...(characters === undefined ? {} : { characters }),
    ...(images === undefined ? {} : { images }),
    ...(variant === undefined ? {} : { imageVariant: variant }),
    ...(searches === undefined ? {} : { searches }),
    ...serverToolRequests(object.serverToolRequests),
    ...(answered === undefined ? {} : { answeredModel: answered }),
    // Optional: an older peer names none, and its calls are billed at the standard tier.
    ...(tier === undefined ? {} : { serviceTier: tier }),
    // Where Anthropic ran the call: US-only inference is billed dearer, and a Messages
    // client is told it (`usage.inference_geo`). An older peer names none.
    ...(geo === undefined ? {} : { inferenceGeo: geo }),
    source: object.source === 'reported' ? 'reported' : 'estimated',
  };
}

const SERVER_TOOLS: ReadonlySet<string> = new Set(ANTHROPIC_SERVER_TOOLS);

/**
 * The server tool runs a peer sent (web searches are billed per run): absent from an older
 * peer's usage, and then none. A tool this build does not know (a newer peer's) is left
 * out; a known tool's count must be a count.
 */
function serverToolRequests(value: unknown): Pick<TokenUsage, 'serverToolRequests'> {
  if (value === undefined) return {};
  const runs: Partial<Record<AnthropicServerTool, number>> = {};
  let any = false;
  for (const [tool, count] of Object.entries(asObject(value, 'usage.serverToolRequests'))) {
    if (!SERVER_TOOLS.has(tool)) continue;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw malformed(`usage.serverToolRequests.${tool}`);
    }
    if (count > 0) {
      runs[tool as AnthropicServerTool] = count;
      any = true;
    }
  }
  return any ? { serverToolRequests: runs } : {};
}

export function badAnswer(peer: string, cause: unknown): DataPlaneError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new DataPlaneError(
    DataPlaneErrorCode.UpstreamBadResponse,
    `${peer} sent an answer this service cannot read${detail}`,
    { cause },
  );
}

function gatewayRequest(value: unknown): GatewayRequest {
  const object = asObject(value, 'request');
  const operation = str(object, 'operation', 'request');
  if (!OPERATIONS.has(operation)) throw malformed('request.operation');
  const caller = asObject(field(object, 'caller'), 'request.caller');
  const tier = caller.tier;
  const budgetKey = caller.budgetKey;
  const allowedModels = object.allowedModels;
  if (!isStringArray(allowedModels)) throw malformed('request.allowedModels');
  const passedOverModels = object.passedOverModels;
  if (passedOverModels !== undefined && !isStringArray(passedOverModels)) {
    throw malformed('request.passedOverModels');
  }
  const forwardHeaders = asObject(field(object, 'forwardHeaders'), 'request.forwardHeaders');
  for (const header of Object.values(forwardHeaders)) {
    if (typeof header !== 'string') throw malformed('request.forwardHeaders');
  }
  return {
    requestId: str(object, 'requestId', 'request'),
    operation: operation as Operation,
    requestedModel: str(object, 'requestedModel', 'request'),
    stream: bool(object, 'stream'),
    clientWantsStreamUsage: bool(object, 'clientWantsStreamUsage'),
    body: asObject(field(object, 'body'), 'request.body'),
    ...(object.uploads === undefined ? {} : { uploads: uploads(object.uploads) }),
    caller: {
      userKey: str(caller, 'userKey', 'request.caller'),
      // The budget the usage event settles: lost here, it would settle the user key's.
      ...(typeof budgetKey === 'string' ? { budgetKey } : {}),
      ...(typeof tier === 'string' ? { tier } : {}),
    },
    allowedModels,
    forwardHeaders: forwardHeaders as Record<string, string>,
    // The hold admission took: the usage event settles it, and without it the hold only
    // lapses (minutes later), refusing the caller for spend already accounted.
    ...(object.reservationId === undefined
      ? {}
      : { reservationId: str(object, 'reservationId', 'request') }),
    // Dropped here, the router would call a model too small for the request, held nowhere.
    ...(passedOverModels === undefined ? {} : { passedOverModels }),
    // Dropped here, Claude would be asked for 4096 tokens where admission held fewer.
    ...heldCount(object, 'defaultMaxOutputTokens'),
    // Dropped here, the adapter would reckon the hold again (the default above) itself.
    ...heldCount(object, 'heldOutputTokens'),
    ...(object.traceContext === undefined
      ? {}
      : { traceContext: traceContext(object.traceContext) }),
    // The client's narrowing of failover: dropped here, the router would widen it back.
    ...(object.overrides === undefined ? {} : { overrides: overrides(object.overrides) }),
  };
}

/**
 * An output count admission held (its default, or what it held): absent from an older
 * peer's request, and then the adapter's own reckoning.
 */
function heldCount<K extends 'defaultMaxOutputTokens' | 'heldOutputTokens'>(
  object: JsonObject,
  name: K,
): Partial<Record<K, number>> {
  const value = object[name];
  if (value === undefined) return {};
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw malformed(`request.${name}`);
  }
  return { [name]: value } as Partial<Record<K, number>>;
}

function overrides(value: unknown): RequestOverrides {
  const object = asObject(value, 'request.overrides');
  const count = (name: 'timeoutMs' | 'retries', least: number): number | undefined => {
    const field = object[name];
    if (field === undefined) return undefined;
    if (typeof field !== 'number' || !Number.isSafeInteger(field) || field < least) {
      throw malformed(`request.overrides.${name}`);
    }
    return field;
  };
  if (object.fallback !== undefined && object.fallback !== false) {
    throw malformed('request.overrides.fallback');
  }
  const timeoutMs = count('timeoutMs', 1);
  const retries = count('retries', 0);
  return {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(retries === undefined ? {} : { retries }),
    ...(object.fallback === false ? { fallback: false as const } : {}),
  };
}

function uploads(value: unknown): Upload[] {
  if (!Array.isArray(value)) throw malformed('request.uploads');
  return value.map((item) => {
    const object = asObject(item, 'request.uploads[]');
    return {
      field: str(object, 'field', 'request.uploads[]'),
      filename: str(object, 'filename', 'request.uploads[]'),
      contentType: str(object, 'contentType', 'request.uploads[]'),
      data: Buffer.from(str(object, 'base64', 'request.uploads[]'), 'base64'),
    };
  });
}

function traceContext(value: unknown): TraceContext {
  const object = asObject(value, 'request.traceContext');
  const tracestate = object.tracestate;
  if (tracestate !== undefined && typeof tracestate !== 'string') {
    throw malformed('request.traceContext.tracestate');
  }
  const traceparent = str(object, 'traceparent', 'request.traceContext');
  return tracestate === undefined ? { traceparent } : { traceparent, tracestate };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function malformed(path: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `${MALFORMED_WIRE_MESSAGE}: "${path}" is missing or of the wrong type`,
  );
}

function asObject(value: unknown, path: string): JsonObject {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw malformed(path);
  return value as JsonObject;
}

function field(object: JsonObject, name: string): unknown {
  return object[name];
}

function str(object: JsonObject, name: string, path: string): string {
  const value = object[name];
  if (typeof value !== 'string') throw malformed(`${path}.${name}`);
  return value;
}

/** A string field a peer of an older build leaves out. */
function optionalStr(object: JsonObject, name: string, path: string): string | undefined {
  return object[name] === undefined ? undefined : str(object, name, path);
}

function bool(object: JsonObject, name: string): boolean {
  const value = object[name];
  if (typeof value !== 'boolean') throw malformed(`request.${name}`);
  return value;
}
