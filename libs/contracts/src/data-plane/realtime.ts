// OpenAI's Realtime API (a WebSocket of JSON events) on the data plane: the ports each
// role implements to open a session on a backend, and the pure event rules every role
// shares (the model's name, the usage of `response.done`). No WebSocket library here.

import type {
  GatewayRequest,
  JsonObject,
  ServedBy,
  TokenUsage,
  UpstreamTarget,
} from './data-plane.types';

/**
 * The largest frame any socket of a session takes (the client's, the backend's, the split
 * deployment's hops): seconds of audio in one event, far past what the API sends. A larger
 * one closes that socket with 1009 (message too big).
 */
export const MAX_REALTIME_FRAME_BYTES = 16 * 1024 * 1024;

/** One WebSocket frame: a text frame as a string (a JSON event), a binary one as bytes. */
export type RealtimeFrame = string | Uint8Array;

/** A message as a WebSocket library hands it over (ws's RawData): one buffer or fragments. */
export type RawSocketMessage = Buffer | ArrayBuffer | readonly Buffer[];

/** A received message as a frame: text as a string, binary as bytes. */
export function realtimeFrameOf(data: RawSocketMessage, binary: boolean): RealtimeFrame {
  const bytes = Array.isArray(data)
    ? Buffer.concat(data as readonly Buffer[])
    : Buffer.from(data as Buffer);
  return binary ? bytes : bytes.toString('utf8');
}

/**
 * Whether a socket's error is a frame past its maxPayload: ws then sends the peer 1009 but
 * reports 1006 itself (it reads no more, so never hears the peer's close); 1009 it is.
 */
export function isOversizedFrameError(error: Error): boolean {
  return (error as { code?: unknown }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
}

/** What a session hears from its backend, after each role on the way had its look. */
export interface RealtimeListener {
  frame(frame: RealtimeFrame): void;
  /** The backend's socket closed (`code` as the backend sent it, 1006 if it dropped). */
  closed(code: number, reason: string): void;
}

/** An open session on a backend. */
export interface RealtimeConnection {
  readonly servedBy: ServedBy;
  /** Sends a client frame to the backend. */
  send(frame: RealtimeFrame): void;
  /** Ends the session; the listener hears `closed` once the backend's socket is gone. */
  close(code?: number, reason?: string): void;
}

/** One attempt at opening a session on one backend (the provider side). */
export interface RealtimeCall {
  readonly request: GatewayRequest;
  readonly target: UpstreamTarget;
  readonly listener: RealtimeListener;
  readonly signal: AbortSignal;
}

/** The router's side: picks the backend. Absent where a role cannot carry sessions. */
export interface RealtimeRouter {
  connectRealtime(
    request: GatewayRequest,
    listener: RealtimeListener,
    signal: AbortSignal,
  ): Promise<RealtimeConnection>;
}

/** The provider side: credentials, the upstream socket, metering. */
export interface RealtimeProvider {
  connectRealtime(call: RealtimeCall): Promise<RealtimeConnection>;
}

/** Whether a port can carry Realtime sessions. */
export function carriesRealtime<T extends object>(port: T): port is T & RealtimeRouter {
  return typeof (port as Partial<RealtimeRouter>).connectRealtime === 'function';
}

/** Whether a provider port can open Realtime sessions. */
export function opensRealtime<T extends object>(port: T): port is T & RealtimeProvider {
  return typeof (port as Partial<RealtimeProvider>).connectRealtime === 'function';
}

/**
 * A text frame that may need a look: only session events carry the model, only
 * `response.done` the usage. Audio frames (base64: no `.`, no `\`) never match, so they
 * pass without being parsed. A frame with a JSON escape is looked at too: a client could
 * spell `session\u002eupdate`, which the backend reads as `session.update`.
 */
function mayConcern(frame: RealtimeFrame, marker: string): frame is string {
  return typeof frame === 'string' && (frame.includes(marker) || frame.includes('\\u'));
}

/** The event of a text frame, or undefined for anything that is not a JSON object. */
export function realtimeEvent(frame: RealtimeFrame): JsonObject | undefined {
  if (typeof frame !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(frame);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The frame with `session.model` set to `model` in `session.*` events (as
 * `modelNameOverride` renames a chat answer's `model`): the client's name on the way to
 * it, the backend's on the way up (a session runs the model it was admitted for, whatever
 * a `session.update` names). Every other frame is returned as it came, byte for byte.
 */
export function renameRealtimeModel(frame: RealtimeFrame, model: string): RealtimeFrame {
  if (!mayConcern(frame, 'session.')) return frame;
  const event = realtimeEvent(frame);
  if (typeof event?.type !== 'string' || !event.type.startsWith('session.')) return frame;
  const session = event.session;
  if (session === null || typeof session !== 'object' || Array.isArray(session)) return frame;
  const current = (session as JsonObject).model;
  if (current === undefined || current === model) return frame;
  return JSON.stringify({ ...event, session: { ...session, model } });
}

/** The `response.done` event of a frame, if it is one. */
export function responseDone(frame: RealtimeFrame): JsonObject | undefined {
  if (!mayConcern(frame, 'response.done')) return undefined;
  const event = realtimeEvent(frame);
  return event?.type === 'response.done' ? event : undefined;
}

/** The `response.created` event of a frame, if it is one. */
export function responseCreated(frame: RealtimeFrame): JsonObject | undefined {
  if (!mayConcern(frame, 'response.created')) return undefined;
  const event = realtimeEvent(frame);
  return event?.type === 'response.created' ? event : undefined;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

function details(value: unknown): JsonObject {
  return value !== null && typeof value === 'object' ? (value as JsonObject) : {};
}

/**
 * The usage of one `response.done` (`response.usage`: input and output tokens, with
 * `input_token_details` {text, audio, image, cached tokens and `cached_tokens_details`}
 * and `output_token_details` {text, audio}), or undefined when it reports none (a
 * response cancelled before it began). Audio input is counted without its cached part,
 * which is billed at the cache price with the rest of the cached input.
 */
export function realtimeUsage(event: JsonObject): TokenUsage | undefined {
  const usage = details(details(event.response).usage);
  if (usage.input_tokens === undefined && usage.output_tokens === undefined) return undefined;
  const inputTokens = count(usage.input_tokens);
  const outputTokens = count(usage.output_tokens);
  const input = details(usage.input_token_details);
  const output = details(usage.output_token_details);
  const cachedInputTokens = Math.min(count(input.cached_tokens), inputTokens);
  const cached = details(input.cached_tokens_details);
  const audioInput = Math.max(0, count(input.audio_tokens) - count(cached.audio_tokens));
  const imageInput = Math.max(0, count(input.image_tokens) - count(cached.image_tokens));
  const audioOutput = Math.min(count(output.audio_tokens), outputTokens);
  return {
    inputTokens,
    outputTokens,
    cachedInputTokens,
    ...(audioInput > 0 ? { audioInputTokens: audioInput } : {}),
    ...(imageInput > 0 ? { imageInputTokens: imageInput } : {}),
    ...(audioOutput > 0 ? { audioOutputTokens: audioOutput } : {}),
    source: 'reported',
  };
}

/**
 * The input-audio transcription model a `session.created` or `session.updated` event
 * names (`session.audio.input.transcription.model`, or the beta shape's
 * `session.input_audio_transcription.model`); undefined for other frames or when the
 * session transcribes nothing (`null`, absent).
 */
export function transcriptionModel(frame: RealtimeFrame): string | null | undefined {
  if (!mayConcern(frame, 'session.')) return undefined;
  const event = realtimeEvent(frame);
  if (event?.type !== 'session.created' && event?.type !== 'session.updated') return undefined;
  const session = details(event.session);
  const input = details(details(session.audio).input);
  const config =
    'transcription' in input
      ? input.transcription
      : 'input_audio_transcription' in session
        ? session.input_audio_transcription
        : undefined;
  if (config === undefined) return undefined; // says nothing of transcription
  const model = details(config).model;
  return typeof model === 'string' && model !== '' ? model : null;
}

/**
 * The usage of one `conversation.item.input_audio_transcription.completed` (its own
 * `usage`, billed for the transcription model apart from the responses): tokens (with
 * `input_token_details` {text, audio}) or, for models billed by the minute (whisper-1),
 * `{type: 'duration', seconds}`. Undefined for other frames or one with no usage.
 */
export function transcriptionUsage(frame: RealtimeFrame): TokenUsage | undefined {
  if (!mayConcern(frame, 'input_audio_transcription.completed')) return undefined;
  const event = realtimeEvent(frame);
  if (event?.type !== 'conversation.item.input_audio_transcription.completed') return undefined;
  const usage = details(event.usage);
  if (usage.type === 'duration') {
    const seconds = typeof usage.seconds === 'number' && usage.seconds > 0 ? usage.seconds : 0;
    if (seconds === 0) return undefined;
    return {
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      audioSeconds: seconds,
      source: 'reported',
    };
  }
  if (usage.input_tokens === undefined && usage.output_tokens === undefined) return undefined;
  const inputTokens = count(usage.input_tokens);
  const audioInput = Math.min(count(details(usage.input_token_details).audio_tokens), inputTokens);
  return {
    inputTokens,
    outputTokens: count(usage.output_tokens),
    cachedInputTokens: 0,
    ...(audioInput > 0 ? { audioInputTokens: audioInput } : {}),
    source: 'reported',
  };
}

/**
 * An `error` event of the Realtime API, as the gateway sends one before it closes or when it
 * refuses one client event (`clientEventId`: that event's `event_id`, as OpenAI names it).
 */
export function realtimeErrorEvent(
  type: string,
  code: string,
  message: string,
  param: string | null = null,
  clientEventId: string | null = null,
): string {
  return JSON.stringify({
    type: 'error',
    event_id: `event_gw_${Date.now().toString(36)}`,
    error: { type, code, message, param, event_id: clientEventId },
  });
}
