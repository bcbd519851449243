import type { DataPlaneError } from '@aigw/contracts/data-plane';
import type { MetricsRegistry } from '@aigw/observability';

/** How a Realtime session ended (the `outcome` of `ai_gateway_realtime_sessions_total`). */
export type RealtimeOutcome =
  | 'refused'
  | 'upstream_refused'
  /** The client hung up during the handshake (its backend session, if opened, closed). */
  | 'client_gone_before_open'
  | 'client_closed'
  | 'upstream_closed'
  | 'budget_exceeded'
  /** The client read too slowly: its unread frames passed the bound. */
  | 'client_too_slow'
  /** The client answered no ping (its network dropped without a close). */
  | 'client_unresponsive'
  /** The gateway stopped (SIGTERM): the client was told to reconnect (a call, hung up). */
  | 'shutdown'
  /** A WebRTC call ended at the backend (the browser hung up): its sideband closed normally. */
  | 'call_ended'
  /** A WebRTC call its caller hung up (`POST /v1/realtime/calls/{id}/hangup`). */
  | 'hung_up';

export type RealtimeDirection = 'client_to_backend' | 'backend_to_client';

/** Facts of a session, never its content: ids, names, codes and counts. */
export type RealtimeLogFields = Readonly<Record<string, string | number | undefined>>;

/** What the edge reports of Realtime sessions. */
export interface RealtimeObserver {
  opened(fields: RealtimeLogFields): void;
  ended(outcome: RealtimeOutcome, fields: RealtimeLogFields): void;
  /** A WebRTC call ended (as well as its session): who ended it, for the calls' own count. */
  callEnded?(outcome: RealtimeOutcome): void;
  /** Refused before the upgrade (`upstream` when the backend refused it). */
  refused(error: DataPlaneError, upstream: boolean, fields: RealtimeLogFields): void;
  /** The client hung up before its session was open: nobody refused it. */
  abandoned(fields: RealtimeLogFields): void;
  frame(direction: RealtimeDirection, bytes: number): void;
  /** A client event the prompt rules refused (`param`: its field); the session went on. */
  promptRefused(error: DataPlaneError, param: string, fields: RealtimeLogFields): void;
  /** A client secret minted, refused, or presented by a session (never the secret). */
  clientSecret?(outcome: ClientSecretOutcome, fields: RealtimeLogFields): void;
  /** A WebRTC call-control request (`POST /v1/realtime/calls/{id}/<verb>`) answered. */
  callControl?(verb: string, result: CallControlResult, fields: RealtimeLogFields): void;
}

/** The `result` of `ai_gateway_realtime_call_controls_total`. */
export type CallControlResult =
  /** The call, watched here, was hung up (200). */
  | 'hung_up'
  /** The hang-up was passed on to the replica watching the call (200). */
  | 'passed_on'
  /** No call of the caller's (404): unknown, another's, over, or on a replica out of reach. */
  | 'not_found'
  /** accept, reject or refer on a call the gateway placed, which takes no SIP calls (400). */
  | 'not_sip_call'
  /** The gateway could not find the call or identify the caller: its store or keys away (503). */
  | 'unavailable';

/** The `outcome` of `ai_gateway_realtime_client_secrets_total`. */
export type ClientSecretOutcome =
  | 'minted'
  | 'refused'
  | 'accepted'
  | 'unknown'
  | 'expired'
  | 'wrong_model'
  | 'store_failed'
  /**
   * A live secret dropped for room: its caller's oldest past its bound, or, the in-memory
   * store being full, the oldest of the caller holding the most.
   */
  | 'evicted';

interface SessionLogger {
  info(message: string, fields?: object): void;
  warn(message: string, fields?: object): void;
}

/** The metrics of every session, and a log line as each opens, ends or is refused. */
export function realtimeTelemetry(
  metrics: MetricsRegistry,
  logger?: SessionLogger,
): RealtimeObserver {
  return {
    opened: (fields) => {
      metrics.trackRealtimeSession(1);
      logger?.info('realtime session opened', fields);
    },
    ended: (outcome, fields) => {
      metrics.trackRealtimeSession(-1);
      metrics.recordRealtimeSession(outcome);
      logger?.info('realtime session ended', { ...fields, outcome });
    },
    callEnded: (outcome) => metrics.recordRealtimeCallEnded(outcome),
    callControl: (verb, result, fields) => {
      metrics.recordRealtimeCallControl(verb, result);
      // The gateway's own trouble: the caller was told to retry, the call runs on meanwhile.
      if (result === 'unavailable') logger?.warn('realtime call control unavailable', fields);
    },
    refused: (error, upstream, fields) => {
      metrics.recordRealtimeSession(upstream ? 'upstream_refused' : 'refused');
      // The message only: it names models and limits, never a key or a prompt.
      logger?.warn('realtime session refused', {
        ...fields,
        status: error.httpStatus,
        code: error.code,
        reason: error.message,
      });
    },
    abandoned: (fields) => {
      metrics.recordRealtimeSession('client_gone_before_open');
      logger?.info('realtime session abandoned by its client during the handshake', fields);
    },
    frame: (direction, bytes) => metrics.recordRealtimeFrame(direction, bytes),
    // The rule only, as a refused chat prompt's: never the text it matched.
    promptRefused: (error, param, fields) =>
      logger?.warn('realtime event refused by the prompt rules', {
        ...fields,
        code: error.code,
        param,
        reason: error.message,
      }),
    clientSecret: (outcome, fields) => {
      metrics.recordRealtimeClientSecret(outcome);
      // Ids, the model, the caller and the outcome: the secret itself is never a field.
      if (outcome === 'minted' || outcome === 'accepted' || outcome === 'evicted') {
        logger?.info(`realtime client secret ${outcome}`, fields);
      } else logger?.warn(`realtime client secret ${outcome}`, fields);
    },
  };
}

export const NOOP_REALTIME_OBSERVER: RealtimeObserver = {
  opened: () => undefined,
  ended: () => undefined,
  refused: () => undefined,
  abandoned: () => undefined,
  frame: () => undefined,
  promptRefused: () => undefined,
};
