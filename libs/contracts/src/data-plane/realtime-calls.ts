// OpenAI's Realtime over WebRTC (`POST /v1/realtime/calls`) on the data plane. A call rides
// the Realtime session's own path (RealtimeRouter → RealtimeProvider, and the split
// deployment's hops): the browser's offer travels in the session request's body, and the
// provider side answers with one frame of its own before the call's sideband events.

import type { GatewayRequest, JsonObject } from './data-plane.types';
import { realtimeEvent, type RealtimeFrame } from './realtime';

/** What the browser sent: its SDP offer and the session configuration to create it with. */
export interface RealtimeCallOffer {
  readonly sdp: string;
  /** Applied as the call is created (model and type are the provider side's). */
  readonly session?: JsonObject;
}

/** What the backend answered: its SDP and the call's id (`rtc_…`, from its `Location`). */
export interface RealtimeCallAnswer {
  readonly sdp: string;
  readonly callId: string;
}

/** The request body's field that makes a Realtime request a WebRTC call. */
const OFFER_FIELD = 'webrtc_call';

/**
 * The provider side's first frame on a call: never an OpenAI event (the `gateway.` type),
 * read by the edge and never sent to any client.
 */
const ANSWER_EVENT = 'gateway.realtime_call.answered';

/** The request, made a WebRTC call with this offer. */
export function withRealtimeCallOffer(
  request: GatewayRequest,
  offer: RealtimeCallOffer,
): GatewayRequest {
  const call: JsonObject = { sdp: offer.sdp, ...(offer.session ? { session: offer.session } : {}) };
  return { ...request, body: { ...request.body, [OFFER_FIELD]: call } };
}

/** The offer of a Realtime request that is a WebRTC call; undefined for a socket session. */
export function realtimeCallOffer(request: GatewayRequest): RealtimeCallOffer | undefined {
  // A request some callers build by hand (tests, tools) may come without a body at all.
  const body = request.body as JsonObject | undefined;
  const call = body?.[OFFER_FIELD];
  if (!isObject(call)) return undefined;
  const { sdp, session } = call;
  if (typeof sdp !== 'string') return undefined;
  return { sdp, ...(isObject(session) ? { session } : {}) };
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The frame the provider side sends first on a call: the backend's answer. */
export function realtimeCallAnsweredFrame(answer: RealtimeCallAnswer): string {
  return JSON.stringify({ type: ANSWER_EVENT, sdp: answer.sdp, call_id: answer.callId });
}

/** The backend's answer, if this frame is the provider side's answer frame. */
export function realtimeCallAnswered(frame: RealtimeFrame): RealtimeCallAnswer | undefined {
  if (typeof frame !== 'string' || !frame.includes(ANSWER_EVENT)) return undefined;
  const event = realtimeEvent(frame);
  if (event?.type !== ANSWER_EVENT) return undefined;
  const { sdp, call_id: callId } = event;
  return typeof sdp === 'string' && typeof callId === 'string' ? { sdp, callId } : undefined;
}
