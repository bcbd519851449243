import WebSocket from 'ws';
import {
  realtimeErrorEvent,
  realtimeUsage,
  responseDone,
  type DataPlaneError,
  type RealtimeConnection,
  type RealtimeFrame,
  type RealtimeListener,
  type TokenUsage,
  realtimeFrameOf,
  ResponsesInFlight,
} from '@aigw/contracts/data-plane';
import { addUsage } from './realtime-accounting';
import { MAX_EVENT_DEPTH, nestsTooDeep } from './event-depth';
import type { RealtimeScreening } from './realtime-prompt-rules';
import type { RealtimeLogFields, RealtimeObserver, RealtimeOutcome } from './realtime-telemetry';

/** How often an open session looks whether its caller's budget was spent meanwhile. */
export const BUDGET_CHECK_INTERVAL_MS = 250;
/**
 * Frames the client has not read yet past which the session ends (a stalled client):
 * minutes of audio, so memory stays bounded whatever the client does.
 */
export const MAX_CLIENT_BACKLOG_BYTES = 16 * 1024 * 1024;

/**
 * How often the client is pinged; one that answered neither the last ping nor with a frame
 * since is gone (a dropped network sends no FIN, and an idle session writes nothing that
 * would fail), and its session ends rather than hold the backend's open.
 */
export const CLIENT_PING_INTERVAL_MS = 30_000;

export interface RealtimeSessionOptions {
  readonly observer: RealtimeObserver;
  readonly fields: RealtimeLogFields;
  /** The refusal of a spent limit of the caller, if one is spent now (local, no network). */
  readonly spentLimit?: () => DataPlaneError | undefined;
  /**
   * A client event under the route's prompt rules (text items, instructions): refused, or
   * the frame to send on (its texts masked by `redact`). A refused event never reaches the
   * backend; the session goes on.
   */
  readonly promptRules?: (frame: RealtimeFrame) => RealtimeScreening;
  /** Told once the session is over. */
  readonly finished?: (end: SessionEnd) => void;
  readonly checkIntervalMs?: number;
  readonly pingIntervalMs?: number;
}

/** How a session ended. */
export interface SessionEnd {
  readonly outcome: RealtimeOutcome;
  /** The responses' usage summed; undefined when none reported any (nothing billed). */
  readonly usage?: TokenUsage;
  /** The spent limit that ended it (`budget_exceeded`). */
  readonly refusal?: DataPlaneError;
  /**
   * The gateway closed it while a response ran: the backend's side cancels that response
   * and bills its response.done, which settles the session's hold if nothing did yet.
   */
  readonly cancelling?: boolean;
}

function sizeOf(frame: RealtimeFrame): number {
  return typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
}

/**
 * One Realtime session: the client's socket and the backend's, frames relayed both ways
 * as they are (the roles before it renamed the model and metered the responses). The
 * backend's first frames may come before the client's upgrade is done: they wait for it.
 * Either side closing closes the other; the client hears why in an `error` event first
 * when the backend went, or when its caller's budget is spent mid-session.
 */
export class RealtimeSession {
  private client?: WebSocket;
  private connection?: RealtimeConnection;
  private readonly waiting: RealtimeFrame[] = [];
  private upstreamGone?: { code: number; reason: string };
  private outcome?: RealtimeOutcome;
  private usage?: TokenUsage;
  private refusal?: DataPlaneError;
  private readonly responses = new ResponsesInFlight();
  private timer?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  /** Heard from since the last ping (a pong or any frame). */
  private heard = true;

  constructor(private readonly options: RealtimeSessionOptions) {}

  /** What the backend sends: for the client. */
  readonly listener: RealtimeListener = {
    frame: (frame) => {
      const done = responseDone(frame);
      const usage = done && realtimeUsage(done);
      if (usage) this.usage = addUsage(this.usage, usage);
      this.responses.heard(frame);
      if (!this.client) {
        this.waiting.push(frame);
        return;
      }
      this.toClient(frame);
    },
    closed: (code, reason) => {
      if (!this.client) {
        this.upstreamGone = { code, reason };
        return;
      }
      this.onUpstreamClosed(code);
    },
  };

  /** The upgrade is done: relay from now on. */
  attach(client: WebSocket, connection: RealtimeConnection): void {
    this.client = client;
    this.connection = connection;
    this.options.observer.opened(this.options.fields);
    client.on('error', () => undefined); // a bad frame closes it (1007, 1009): `close` follows
    client.on('message', (data, binary) => {
      this.heard = true;
      this.fromClient(realtimeFrameOf(data, binary));
    });
    client.on('pong', () => (this.heard = true));
    client.once('close', () => this.end('client_closed'));
    for (const frame of this.waiting.splice(0)) this.toClient(frame);
    if (this.upstreamGone) return this.onUpstreamClosed(this.upstreamGone.code);
    this.heartbeat = setInterval(
      () => this.ping(),
      this.options.pingIntervalMs ?? CLIENT_PING_INTERVAL_MS,
    );
    this.heartbeat.unref();
    if (this.options.spentLimit) {
      this.timer = setInterval(
        () => this.checkBudget(),
        this.options.checkIntervalMs ?? BUDGET_CHECK_INTERVAL_MS,
      );
      this.timer.unref();
    }
  }

  private ping(): void {
    const client = this.client!;
    if (!this.heard) {
      this.end('client_unresponsive', 1001, 'no answer to ping');
      client.terminate(); // no close handshake with a peer that is gone
      return;
    }
    this.heard = false;
    if (client.readyState === WebSocket.OPEN) client.ping();
  }

  private fromClient(frame: RealtimeFrame): void {
    if (this.outcome || this.checkBudget()) return;
    // Read and written again below (prompt rules, the model's name), such an event would
    // overflow the stack and take the process down with every session on it.
    if (typeof frame === 'string' && nestsTooDeep(frame)) {
      this.sendError(
        'invalid_request_error',
        'event_too_deeply_nested',
        `The event nests objects and arrays deeper than ${MAX_EVENT_DEPTH} levels; it was not sent`,
      );
      return;
    }
    const screened = this.options.promptRules?.(frame);
    const refused = screened?.refusal;
    if (refused) {
      this.options.observer.promptRefused(refused.error, refused.param, this.options.fields);
      const { message, type, code } = refused.error.toOpenAiBody().error;
      this.sendError(type, code, message, refused.param, refused.eventId);
      return;
    }
    const sent = screened?.frame ?? frame;
    this.options.observer.frame('client_to_backend', sizeOf(sent));
    this.connection!.send(sent);
  }

  private toClient(frame: RealtimeFrame): void {
    const client = this.client!;
    if (client.readyState !== WebSocket.OPEN) return;
    if (client.bufferedAmount > MAX_CLIENT_BACKLOG_BYTES) {
      this.end('client_too_slow', 1008, 'client too slow');
      return;
    }
    this.options.observer.frame('backend_to_client', sizeOf(frame));
    client.send(frame);
  }

  /** The gateway is stopping: the client hears why, then a close (1001, going away). */
  shutdown(): void {
    this.sendError(
      'server_error',
      'gateway_shutting_down',
      'the gateway is restarting: open a new realtime session',
    );
    this.end('shutdown', 1001, 'gateway shutting down');
  }

  /** Ends the session when the caller's budget is spent; true when it did. */
  private checkBudget(): boolean {
    const refusal = this.options.spentLimit?.();
    if (!refusal) return false;
    this.refusal = refusal;
    const body = refusal.toOpenAiBody().error;
    this.sendError('invalid_request_error', 'budget_exceeded', body.message);
    this.end('budget_exceeded', 1008, 'budget exceeded');
    return true;
  }

  private onUpstreamClosed(code: number): void {
    if (this.outcome) return this.end(this.outcome);
    this.sendError(
      'server_error',
      'upstream_closed',
      `the backend closed the realtime session (WebSocket code ${code})`,
    );
    // 1009: a frame too big on the way (the backend's or a hop's bound); else ours is 1011.
    const relayed = code === 1000 || code === 1009 ? code : 1011;
    this.end('upstream_closed', relayed, 'backend closed the session');
  }

  private sendError(
    type: string,
    code: string,
    message: string,
    param: string | null = null,
    clientEventId: string | null = null,
  ): void {
    if (this.client?.readyState === WebSocket.OPEN) {
      this.client.send(realtimeErrorEvent(type, code, message, param, clientEventId));
    }
  }

  /** Closes both sockets once; the first reason is the outcome. */
  private end(outcome: RealtimeOutcome, code = 1000, reason = ''): void {
    if (this.outcome) return;
    this.outcome = outcome;
    clearInterval(this.timer);
    clearInterval(this.heartbeat);
    this.connection?.close(1000);
    const client = this.client;
    if (
      client &&
      (client.readyState === WebSocket.OPEN || client.readyState === WebSocket.CONNECTING)
    ) {
      client.close(code, reason);
    }
    this.options.observer.ended(outcome, this.options.fields);
    // A backend that closed ends no response it was generating: nothing will bill one.
    const cancelling = outcome !== 'upstream_closed' && this.responses.size > 0;
    this.options.finished?.({ outcome, usage: this.usage, refusal: this.refusal, cancelling });
  }
}
