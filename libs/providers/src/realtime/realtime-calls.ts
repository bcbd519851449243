import {
  codeForStatus,
  DataPlaneError,
  DataPlaneErrorCode,
  type RealtimeCallAnswer,
  type RealtimeCallOffer,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { credentialHeaders } from '../core/upstream-http';
import { retryAfterOf, scrubbedUpstreamText, type EchoedSecret } from '../core/upstream-failure';
import { resolveBaseUrl } from '../openai-compatible/openai-base-urls';

/** A hang-up is best effort: a backend that takes longer is not waited for. */
const HANGUP_TIMEOUT_MS = 5_000;
/** OpenAI's call ids, as its `Location: /v1/realtime/calls/rtc_…` names them. */
const CALL_ID = /^rtc_[A-Za-z0-9_-]{1,200}$/;
/** How much of a backend's own refusal message a client hears (a bad SDP, a bad session). */
const MAX_RELAYED_MESSAGE = 300;

/**
 * Only OpenAI's own API serves calls here: Azure OpenAI's WebRTC form differs (its own
 * `/openai/v1/realtime/calls` and no documented sideband by call id), so a call on an Azure
 * backend is refused before anything is sent.
 */
export function refuseUnservedCallBackend(target: UpstreamTarget): void {
  if (target.provider === 'openai') return;
  throw new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `WebRTC calls (/v1/realtime/calls) are served on OpenAI backends only; backend ` +
      `"${target.backendName}" is ${target.provider}: use the WebSocket (/v1/realtime?model=)`,
    { param: 'model' },
  );
}

/** `https://api.openai.com/v1` (or the backend's configured base URL), without a slash after. */
function apiBase(target: UpstreamTarget): URL {
  const base = new URL(resolveBaseUrl(target.provider, target.baseUrl));
  base.pathname = base.pathname.replace(/\/+$/, '');
  return base;
}

function callsUrl(target: UpstreamTarget, path = ''): string {
  const base = apiBase(target);
  return `${base.origin}${base.pathname}/realtime/calls${path}`;
}

/** The call's sideband WebSocket: `wss://api.openai.com/v1/realtime?call_id=rtc_…`. */
export function sidebandUrl(target: UpstreamTarget, callId: string): string {
  const base = apiBase(target);
  const scheme = base.protocol === 'http:' ? 'ws:' : 'wss:';
  return `${scheme}//${base.host}${base.pathname}/realtime?call_id=${encodeURIComponent(callId)}`;
}

/**
 * Creates the call on the backend as a server does: a form with the browser's `sdp` and the
 * `session` (the backend's model, `type: realtime`), with the backend's key. Resolves to its
 * SDP answer and the call id of its `Location`; a refusal is a DataPlaneError of its status.
 */
export async function createRealtimeCall(
  target: UpstreamTarget,
  offer: RealtimeCallOffer,
  signal: AbortSignal,
): Promise<RealtimeCallAnswer> {
  const form = new FormData();
  form.set('sdp', offer.sdp);
  form.set('session', JSON.stringify({ type: 'realtime', ...offer.session, model: target.model }));
  const backend = target.backendName;
  let response: Response;
  try {
    response = await fetch(callsUrl(target), {
      method: 'POST',
      headers: credentialHeaders(target),
      body: form,
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(target.firstByteTimeoutMs)]),
    });
  } catch (error) {
    if (signal.aborted) {
      throw new DataPlaneError(DataPlaneErrorCode.Internal, 'the client disconnected');
    }
    const timedOut = (error as Error).name === 'TimeoutError';
    throw new DataPlaneError(
      timedOut ? DataPlaneErrorCode.UpstreamTimeout : DataPlaneErrorCode.UpstreamError,
      `backend "${backend}" could not be reached for a realtime call` +
        (timedOut ? ' in time' : ''),
      { cause: error },
    );
  }
  if (response.status !== 201 && response.status !== 200) {
    throw await callRefusal(response, backend, target.credential?.apiKey);
  }
  const callId = response.headers.get('location')?.split('/').pop() ?? '';
  const sdp = await response.text();
  if (!CALL_ID.test(callId) || !sdp.startsWith('v=')) {
    throw new DataPlaneError(
      DataPlaneErrorCode.UpstreamError,
      `backend "${backend}" answered the realtime call without an SDP answer and a call id`,
    );
  }
  return { sdp, callId };
}

/**
 * The backend's refusal as the client hears it: its status, and for a request it found
 * wrong (400, 422: an SDP it could not read) its own message, scrubbed as every provider's
 * words are (the backend's key and key-like strings redacted).
 */
async function callRefusal(
  response: Response,
  backend: string,
  secret: EchoedSecret | undefined,
): Promise<DataPlaneError> {
  const status = response.status;
  let detail = '';
  if (status === 400 || status === 422) {
    try {
      const body = (await response.json()) as { error?: { message?: unknown } };
      const message = body.error?.message;
      if (typeof message === 'string') {
        detail = `: ${scrubbedUpstreamText(message, secret).slice(0, MAX_RELAYED_MESSAGE)}`;
      }
    } catch {
      // no JSON error: the status says it
    }
  } else {
    await response.body?.cancel();
  }
  // Read as a refused chat call's: retry-after-ms, seconds or an HTTP date, a day at most.
  const retryAfterMs = retryAfterOf({
    'retry-after-ms': response.headers.get('retry-after-ms') ?? undefined,
    'retry-after': response.headers.get('retry-after') ?? undefined,
  });
  return new DataPlaneError(
    codeForStatus(status),
    `backend "${backend}" refused the realtime call (HTTP ${status})${detail}`,
    { upstreamStatus: status, ...(retryAfterMs ? { retryAfterMs } : {}) },
  );
}

/**
 * Ends the call for everyone (`POST /v1/realtime/calls/{id}/hangup`): the browser's media
 * and the sideband. Best effort: a hang-up that fails is not retried.
 */
export async function hangUpRealtimeCall(target: UpstreamTarget, callId: string): Promise<void> {
  try {
    const response = await fetch(callsUrl(target, `/${encodeURIComponent(callId)}/hangup`), {
      method: 'POST',
      headers: credentialHeaders(target),
      redirect: 'manual',
      signal: AbortSignal.timeout(HANGUP_TIMEOUT_MS),
    });
    await response.body?.cancel();
  } catch {
    // Best effort: a failed hang-up is not retried.
  }
}
