import { DataPlaneError, DataPlaneErrorCode, type TokenUsage } from '@aigw/contracts/data-plane';
import type { RealtimeOutcome } from './realtime-telemetry';

/** What the upgrade answered once a session was open (Switching Protocols). */
export const SWITCHING_PROTOCOLS = 101;

/** How a session that was open ends as a request: delivered, or failed and why. */
export type SessionRequestEnd =
  | { readonly kind: 'completed' }
  | {
      readonly kind: 'failed';
      readonly error: DataPlaneError;
      /** The client's doing (it left, stopped answering, read too slowly): not ours. */
      readonly clientGone: boolean;
    };

/**
 * A session's outcome in the request vocabulary (`ai_gateway_requests_total`, request
 * events, the span's status). Ended by its client (a WebRTC call hung up by its browser,
 * or by its caller through the gateway), or told to reconnect as the gateway stopped, it
 * completed; ended by the backend it was interrupted (502); by a spent budget it failed as
 * the refusal (429); a client that stopped answering or reading left (499).
 */
export function sessionRequestEnd(
  outcome: RealtimeOutcome,
  refusal?: DataPlaneError,
): SessionRequestEnd {
  switch (outcome) {
    case 'client_closed':
    case 'call_ended':
    case 'hung_up':
    case 'shutdown':
      return { kind: 'completed' };
    case 'upstream_closed':
      return {
        kind: 'failed',
        error: new DataPlaneError(
          DataPlaneErrorCode.StreamInterrupted,
          'the backend closed the realtime session',
        ),
        clientGone: false,
      };
    case 'budget_exceeded':
      return {
        kind: 'failed',
        error:
          refusal ??
          new DataPlaneError(DataPlaneErrorCode.BudgetExceeded, 'the caller’s budget is spent'),
        clientGone: false,
      };
    default:
      // client_unresponsive, client_too_slow (refused and upstream_refused end no open session).
      return {
        kind: 'failed',
        error: new DataPlaneError(DataPlaneErrorCode.Internal, `realtime client: ${outcome}`),
        clientGone: true,
      };
  }
}

/** The usage of a session so far plus one response's. */
export function addUsage(total: TokenUsage | undefined, usage: TokenUsage): TokenUsage {
  if (!total) return usage;
  return {
    inputTokens: total.inputTokens + usage.inputTokens,
    outputTokens: total.outputTokens + usage.outputTokens,
    cachedInputTokens: total.cachedInputTokens + usage.cachedInputTokens,
    source: total.source,
  };
}

/** No response reported usage (the client left before asking for one). */
export const NO_USAGE: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  source: 'reported',
};
