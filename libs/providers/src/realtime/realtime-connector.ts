import WebSocket from 'ws';
import {
  codeForStatus,
  DataPlaneError,
  DataPlaneErrorCode,
  MAX_REALTIME_FRAME_BYTES,
  type RealtimeCall,
  type RealtimeConnection,
  type RealtimeFrame,
  type RealtimeProvider,
  isOversizedFrameError,
  realtimeCallOffer,
  realtimeFrameOf,
  ResponsesInFlight,
} from '@aigw/contracts/data-plane';
import { REALTIME_PROVIDERS, realtimeUrl } from './realtime-url';
import { connectRealtimeCall } from './realtime-call-connection';
import { servedByOf } from '../core/openai-wire';
import { credentialHeaders } from '../core/upstream-http';
import { retryAfterOf } from '../core/upstream-failure';

/**
 * The client's frames the backend has not read yet past which the session ends (a stalled
 * or slow backend): minutes of audio, so a fast client cannot grow the gateway's memory.
 */
export const MAX_BACKEND_BACKLOG_BYTES = 16 * 1024 * 1024;

/**
 * How often the backend is pinged; one that answered neither the last ping nor with a frame
 * since is gone (a dropped route sends no FIN, and a client still talking only fills send
 * buffers for minutes), and its session ends so the client hears why and can reconnect.
 */
const BACKEND_PING_INTERVAL_MS = 30_000;

/**
 * How long a session closed while a response runs waits for that response's cancellation
 * (its `response.done`, with the usage to bill) before the socket closes regardless: OpenAI
 * answers a `response.cancel` at once, so only a backend in trouble takes this long.
 */
export const CANCELLED_RESPONSE_WAIT_MS = 5_000;

/** The close codes a peer may send (RFC 6455 7.4): others are replaced by 1011. */
export function sendableCloseCode(code: number | undefined): number {
  if (code === undefined) return 1000;
  const valid =
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
  return valid ? code : 1011;
}

/** A close reason fits a close frame in 123 bytes; cut it short before that. */
export function sendableCloseReason(reason: string | undefined): string {
  if (!reason) return '';
  let cut = reason.slice(0, 120);
  while (Buffer.byteLength(cut) > 123) cut = cut.slice(0, -1);
  return cut;
}

/**
 * Opens a Realtime session on an OpenAI or Azure OpenAI backend, with the backend's own
 * credential (the client's never travels here), and relays its frames to the listener.
 * Resolves once the backend accepted the upgrade; a refusal is a DataPlaneError of the
 * backend's status (401 and 403 fail over as the gateway's own trouble, as for calls).
 */
export class RealtimeConnector implements RealtimeProvider {
  constructor(
    private readonly pingIntervalMs = BACKEND_PING_INTERVAL_MS,
    private readonly cancelWaitMs = CANCELLED_RESPONSE_WAIT_MS,
  ) {}

  connectRealtime(call: RealtimeCall): Promise<RealtimeConnection> {
    const { target } = call;
    if (!REALTIME_PROVIDERS.has(target.provider)) {
      return Promise.reject(
        new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          `provider "${target.provider}" has no Realtime API`,
          { param: 'model' },
        ),
      );
    }
    // A WebRTC call: created by HTTP, then watched through its sideband socket.
    const offer = realtimeCallOffer(call.request);
    if (offer) return connectRealtimeCall(call, offer, (url, watched) => this.open(url, watched));
    return this.open(realtimeUrl(target), call);
  }

  /** The backend's socket at `url`, with the backend's credential, relayed to the listener. */
  private open(url: string, call: RealtimeCall): Promise<RealtimeConnection> {
    const { target, listener, signal } = call;
    const backend = target.backendName;
    const socket = new WebSocket(url, {
      headers: credentialHeaders(target),
      handshakeTimeout: target.firstByteTimeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
      // ws's default is 100 MiB held in memory per frame; larger closes with 1009.
      maxPayload: MAX_REALTIME_FRAME_BYTES,
    });
    const servedBy = servedByOf(target);
    return new Promise<RealtimeConnection>((resolve, reject) => {
      let opened = false;
      const fail = (error: DataPlaneError) => {
        if (opened) return;
        signal.removeEventListener('abort', abort);
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.terminate();
        reject(error);
      };
      const abort = () =>
        fail(new DataPlaneError(DataPlaneErrorCode.Internal, 'the client disconnected'));
      if (signal.aborted) return abort();
      signal.addEventListener('abort', abort, { once: true });
      socket.once('unexpected-response', (_request, response) => {
        const status = response.statusCode ?? 502;
        response.resume();
        // Read as a refused chat call's: retry-after-ms, seconds or an HTTP date, a day at most.
        const retryAfterMs = retryAfterOf(response.headers);
        fail(
          new DataPlaneError(
            codeForStatus(status),
            `backend "${backend}" refused the realtime session (HTTP ${status})`,
            { upstreamStatus: status, ...(retryAfterMs ? { retryAfterMs } : {}) },
          ),
        );
      });
      socket.on('error', (error) => {
        const timedOut = /timed out/i.test(error.message);
        fail(
          new DataPlaneError(
            timedOut ? DataPlaneErrorCode.UpstreamTimeout : DataPlaneErrorCode.UpstreamError,
            `backend "${backend}" could not be reached for a realtime session` +
              (timedOut ? ' in time' : ''),
            { cause: error },
          ),
        );
      });
      socket.once('open', () => {
        opened = true;
        signal.removeEventListener('abort', abort);
        /** Heard from since the last ping (a pong or any frame). */
        let heard = true;
        let silent = false;
        const responses = new ResponsesInFlight();
        /** Set once the session was closed with a response in flight: the close it waits to send. */
        let closing: { code: number; reason: string; timer: NodeJS.Timeout } | undefined;
        const closeNow = (code: number, reason: string) => {
          if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
            socket.close(code, reason);
          }
        };
        socket.on('message', (data, binary) => {
          heard = true;
          const frame = realtimeFrameOf(data, binary);
          responses.heard(frame);
          listener.frame(frame);
          // The last cancelled response reported its usage: the close may go now.
          if (closing && responses.size === 0) {
            clearTimeout(closing.timer);
            closeNow(closing.code, closing.reason);
          }
        });
        socket.on('pong', () => (heard = true));
        const heartbeat = setInterval(() => {
          if (!heard) {
            silent = true;
            socket.terminate(); // no close handshake with a peer that is gone
            return;
          }
          heard = false;
          if (socket.readyState === WebSocket.OPEN) socket.ping();
        }, this.pingIntervalMs);
        heartbeat.unref();
        let behind = false;
        // A frame past maxPayload: ws sends the backend 1009 but reports 1006 itself.
        let oversized = false;
        socket.on('error', (error) => {
          oversized ||= isOversizedFrameError(error);
        });
        socket.once('close', (code, reason) => {
          clearInterval(heartbeat);
          clearTimeout(closing?.timer);
          if (behind) listener.closed(1008, 'the backend read too slowly');
          else if (silent) listener.closed(1006, 'the backend answered no ping');
          else if (oversized) listener.closed(1009, 'the backend sent a frame too big');
          else listener.closed(code, reason.toString('utf8'));
        });
        resolve({
          servedBy,
          send: (frame: RealtimeFrame) => {
            if (closing || socket.readyState !== WebSocket.OPEN) return;
            if (socket.bufferedAmount > MAX_BACKEND_BACKLOG_BYTES) {
              // A close frame would queue behind the backlog: drop the socket now.
              behind = true;
              socket.terminate();
              return;
            }
            socket.send(frame);
          },
          // A response still running is cancelled first, and the close waits (bounded) for
          // its response.done: the backend bills what it generated, so the gateway must too.
          close: (code?: number, reason?: string) => {
            if (closing) return;
            const sendable = { code: sendableCloseCode(code), reason: sendableCloseReason(reason) };
            if (responses.size === 0 || socket.readyState !== WebSocket.OPEN) {
              return closeNow(sendable.code, sendable.reason);
            }
            for (const cancel of responses.cancelFrames()) socket.send(cancel);
            const timer = setTimeout(
              () => closeNow(sendable.code, sendable.reason),
              this.cancelWaitMs,
            );
            closing = { ...sendable, timer };
          },
        });
      });
    });
  }
}
