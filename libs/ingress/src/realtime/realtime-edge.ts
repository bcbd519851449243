import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import { GatewayEndpoint } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type RealtimeRouter,
  type ServedBy,
} from '@aigw/contracts/data-plane';
import {
  admittedRequest,
  type Admission,
  type BudgetAdmission,
} from '../admission/budget-admission';
import { toDataPlaneError } from '../http/openai-errors';
import type { IngressPipeline } from '../ingress-pipeline';
import {
  NOOP_INGRESS_OBSERVER,
  type IngressObserver,
  type RequestTimings,
} from '../ingress-observer';
import { NO_USAGE, sessionRequestEnd, SWITCHING_PROTOCOLS } from './realtime-accounting';
import { refuseUncheckedAnswers } from '../redaction/unchecked-answers';
import {
  clientSecretRefusal,
  type ClientSecretGrant,
  type RealtimeClientSecrets,
} from './client-secrets/client-secret-grants';
import { openRealtimeClientSecrets } from './client-secrets/client-secrets-runtime';
import {
  CLIENT_SECRETS_PATH,
  ClientSecretsEndpoint,
} from './client-secrets/client-secrets-endpoint';
import {
  chosenProtocol,
  clientSecretOf,
  handshakeProblem,
  identityHeaders,
  namedModel,
  REALTIME_NOT_SERVED,
  REALTIME_PATHS,
  refuseUpgrade,
  requestedModel,
  UNREADABLE_TARGET,
  upgradeUrl,
  writeRefusal,
} from './realtime-handshake';
import { chatPromptRules, screenRealtimeEvent } from './realtime-prompt-rules';
import { openCallDirectory } from './webrtc/call-directory';
import { CALL_CONTROL_VERBS } from './webrtc/realtime-call-control';
import { REALTIME_CALLS_PATH, RealtimeCallsEndpoint } from './webrtc/realtime-calls-endpoint';
import { RealtimeSession, type SessionEnd } from './realtime-session';
import {
  NOOP_REALTIME_OBSERVER,
  type ClientSecretOutcome,
  type RealtimeObserver,
} from './realtime-telemetry';

export { SPLIT_HOP_MAX_CALL_OFFER_BYTES } from './webrtc/realtime-calls-endpoint';

/** The largest frame a client may send (a second of 24 kHz PCM is 64 KiB as base64). */
const MAX_CLIENT_FRAME_BYTES = 16 * 1024 * 1024;

/** What the edge needs to serve Realtime sessions; absent, they are answered 501. */
export interface RealtimeEdgeOptions {
  readonly router: RealtimeRouter;
  readonly observer?: RealtimeObserver;
  /**
   * The deployment's Redis (`REDIS_URL`): the client secrets `POST /v1/realtime/client_secrets`
   * mints are kept there, else in memory (openRealtimeClientSecrets).
   */
  readonly redisUrl?: string;
  /**
   * The largest offer (SDP and session configuration, as JSON) a WebRTC call may carry:
   * the split ingress's hops send it in a header (SPLIT_HOP_MAX_CALL_OFFER_BYTES); unset,
   * any the body limit lets in.
   */
  readonly maxCallOfferBytes?: number;
}

export const REALTIME_EDGE = Symbol('REALTIME_EDGE');

/**
 * OpenAI's Realtime API at `/v1/realtime?model=` (and `/realtime`): the upgrade request
 * is identified, checked against the tier and admitted against budgets as a chat request
 * is, and answered with the same HTTP errors before anything is upgraded; the router then
 * opens the session on a backend, and only once the backend accepted it is the client's
 * socket upgraded.
 */
export class RealtimeEdge {
  private readonly server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_CLIENT_FRAME_BYTES,
    handleProtocols: (offered) => chosenProtocol(offered),
  });
  /** Sessions open now, so a stopping gateway can close them (its server waits for them). */
  private readonly sessions = new Set<RealtimeSession>();
  /**
   * The client secrets sessions may open with instead of the caller's credential; their
   * store is opened with the edge and closed with it.
   */
  private readonly secrets?: RealtimeClientSecrets;
  /** `POST /v1/realtime/calls` (WebRTC), served where sessions are. */
  private readonly calls?: RealtimeCallsEndpoint;

  constructor(
    private readonly pipeline: IngressPipeline,
    private readonly options?: RealtimeEdgeOptions,
    private readonly admission?: BudgetAdmission,
    /** Request telemetry and tracing, as for the HTTP calls: a session is one request. */
    private readonly requests: IngressObserver = NOOP_INGRESS_OBSERVER,
  ) {
    this.secrets =
      options &&
      openRealtimeClientSecrets(options.redisUrl, () =>
        this.observer.clientSecret?.('evicted', {}),
      );
    this.calls =
      options &&
      new RealtimeCallsEndpoint({
        pipeline,
        router: options.router,
        observer: this.observer,
        requests,
        admission,
        maxOfferBytes: options.maxCallOfferBytes,
        directory: openCallDirectory(options.redisUrl),
        redeem: (secret, model, fields) => this.redeemed(secret, model, fields),
        ended: (request, servedBy, timings, end) => this.ended(request, servedBy, timings, end),
      });
  }

  /**
   * `POST /v1/realtime/client_secrets` and `POST /v1/realtime/calls` (WebRTC) under
   * `prefix`: served where sessions are, else the same 501 as the WebSocket's.
   */
  registerSecretsAndCalls(fastify: FastifyInstance, prefix: string): void {
    if (!this.secrets || !this.calls) {
      const controls = CALL_CONTROL_VERBS.map((verb) => `${REALTIME_CALLS_PATH}/:callId/${verb}`);
      for (const path of [CLIENT_SECRETS_PATH, REALTIME_CALLS_PATH, ...controls]) {
        fastify.post(prefix + path, (_request, reply) => reply.code(501).send(REALTIME_NOT_SERVED));
      }
      return;
    }
    this.calls.register(fastify, prefix);
    new ClientSecretsEndpoint(
      this.pipeline,
      this.secrets,
      this.observer,
      this.admission,
      (route, tally) => this.requests.redacted?.(route, tally),
    ).register(fastify, prefix);
  }

  private get observer(): RealtimeObserver {
    return this.options?.observer ?? NOOP_REALTIME_OBSERVER;
  }

  /**
   * Before the HTTP server closes: every open session ends with a close frame (1001), and
   * a handshake still under way is refused (ws answers 503; its backend is closed below).
   * Without it, an open session kept the server, and so the process, from stopping.
   */
  close(): void {
    this.server.close();
    for (const session of [...this.sessions]) session.shutdown();
    this.calls?.close();
    void this.secrets?.close();
  }

  /** The HTTP server's `upgrade` event: every upgrade request comes here. */
  upgrade(http: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined); // a client gone mid-handshake is no crash
    const url = upgradeUrl(http);
    if (!url) {
      refuseUpgrade(
        socket,
        new DataPlaneError(DataPlaneErrorCode.InvalidRequest, UNREADABLE_TARGET),
      );
      return;
    }
    if (!REALTIME_PATHS.has(url.pathname)) {
      refuseUpgrade(socket, new DataPlaneError(DataPlaneErrorCode.UnknownUrl, 'Unknown endpoint'));
      return;
    }
    if (!this.options) {
      writeRefusal(socket, 501, REALTIME_NOT_SERVED);
      return;
    }
    // Checked before a backend is called: an upgrade that would fail after it leaves nothing open.
    const problem = handshakeProblem(http);
    if (problem) {
      refuseUpgrade(socket, new DataPlaneError(DataPlaneErrorCode.InvalidRequest, problem));
      return;
    }
    const endpoint = GatewayEndpoint.Realtime;
    this.requests.started(endpoint);
    const timings: { startedAt: number; firstByteAt?: number } = { startedAt: performance.now() };
    let done = false;
    // Once per session, however it ended: in flight no more.
    const finished = () => {
      if (done) return;
      done = true;
      this.requests.finished(endpoint);
    };
    void this.open(this.options.router, http, socket, head, url, timings, finished);
  }

  /** An open session's end as its request's: completed, or failed after the 101. */
  private ended(
    request: GatewayRequest,
    servedBy: ServedBy,
    timings: RequestTimings,
    end: SessionEnd,
  ): void {
    const endpoint = GatewayEndpoint.Realtime;
    const report = sessionRequestEnd(end.outcome, end.refusal);
    if (report.kind === 'completed') {
      this.requests.completed(endpoint, request, servedBy, end.usage ?? NO_USAGE, timings);
      return;
    }
    this.requests.failed({
      requestId: request.requestId,
      endpoint,
      request,
      error: report.error,
      timings,
      accepted: true,
      clientGone: report.clientGone,
      statusSent: SWITCHING_PROTOCOLS,
    });
  }

  /**
   * The grant of the client secret a session or call came with, for the model it names
   * (`?model=`, or the grant's when it names none); refused with a 401 as other authentication is.
   */
  private async redeemed(
    secret: string,
    model: string | undefined,
    fields: Record<string, string | undefined>,
  ): Promise<ClientSecretGrant> {
    const report = (outcome: ClientSecretOutcome) =>
      this.observer.clientSecret?.(outcome, { ...fields, model });
    let redemption;
    try {
      redemption = await this.secrets!.redeem(secret, model);
    } catch (error) {
      report('store_failed');
      throw error;
    }
    if (redemption.rejected) {
      report(redemption.rejected);
      throw clientSecretRefusal(redemption.rejected);
    }
    report('accepted');
    return redemption.grant;
  }

  private async open(
    router: RealtimeRouter,
    http: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
    timings: { startedAt: number; firstByteAt?: number },
    finished: () => void,
  ): Promise<void> {
    const endpoint = GatewayEndpoint.Realtime;
    const requestId = randomUUID();
    const fields: Record<string, string | undefined> = { requestId };
    const abort = new AbortController();
    const gone = () => abort.abort(new Error('client disconnected'));
    socket.once('close', gone);
    let admission: Admission | undefined;
    let request: GatewayRequest | undefined;
    let upstream = false;
    /** The client went while its backend session was being opened. */
    let left = false;
    /** The configuration a client secret binds, applied before the client's first frame. */
    let boundSession: JsonObject | undefined;
    try {
      const secret = this.secrets && clientSecretOf(http.headers);
      if (secret !== undefined) {
        // The secret stands in for the caller's credential: its grant says who calls.
        const grant = await this.redeemed(secret, namedModel(url), fields);
        boundSession = grant.session;
        request = this.pipeline.prepareAs(
          'realtime',
          { model: grant.model },
          grant,
          requestId,
          timings.startedAt,
        );
      } else {
        request = await this.pipeline.prepare(
          'realtime',
          { model: requestedModel(url) },
          identityHeaders(http.headers),
          requestId,
          timings.startedAt,
        );
      }
      Object.assign(fields, { model: request.requestedModel, user: request.caller.userKey });
      refuseUncheckedAnswers(this.pipeline, request.requestedModel);
      if (this.admission) {
        admission = await this.admission.admit(request);
        request = admittedRequest(request, admission);
        // Kept from lapsing while the session is opened and runs, until its first
        // response's usage settles it (or the session ends without one).
        this.admission.started(admission);
      }
      const admitted = request;
      this.requests.accepted(endpoint, admitted);
      upstream = true;
      let servedBy: ServedBy | undefined;
      // The route's prompt rules read and mask a session's text events as a chat prompt's,
      // the masking counted as chat's is.
      const rules = chatPromptRules(this.pipeline, admitted.requestedModel, (route, tally) =>
        this.requests.redacted?.(route, tally),
      );
      const session = new RealtimeSession({
        observer: this.observer,
        fields,
        spentLimit: this.admission && (() => this.admission!.spentLimit(admitted)),
        promptRules: (frame) => screenRealtimeEvent(frame, rules),
        finished: (end) => {
          this.sessions.delete(session);
          if (admission) this.admission?.ended(admission);
          // No response reported usage, nor will a cancelled one: nothing will settle the hold.
          if (!end.usage && !end.cancelling && admission) {
            void this.admission?.release(admission);
          }
          if (servedBy) this.ended(admitted, servedBy, timings, end);
          finished();
        },
      });
      const connection = await router.connectRealtime(request, session.listener, abort.signal);
      fields.backend = connection.servedBy.backend;
      socket.off('close', gone);
      if (abort.signal.aborted || !socket.writable) {
        left = true;
        connection.close(1001);
        throw new DataPlaneError(DataPlaneErrorCode.Internal, 'the client disconnected');
      }
      // Before any client frame: the client's own session.update may still change what the
      // backend lets it.
      if (boundSession) {
        connection.send(JSON.stringify({ type: 'session.update', session: boundSession }));
      }
      this.server.handleUpgrade(http, socket, head, (client) => {
        servedBy = connection.servedBy;
        timings.firstByteAt = performance.now();
        this.sessions.add(session);
        session.attach(client, connection);
      });
      // ws answers the callback at once, or refused the upgrade itself (a bad subprotocol
      // list, a socket half closed): nothing will ever end the backend's session then.
      if (!servedBy) {
        connection.close(1001);
        throw new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          'the WebSocket upgrade was refused',
        );
      }
    } catch (error) {
      socket.off('close', gone);
      if (admission) void this.admission?.release(admission);
      const refusal = toDataPlaneError(error);
      // A hang-up mid-handshake is the client's doing, not a refusal (the backend's abort
      // surfaces as an error too).
      const clientGone = left || abort.signal.aborted;
      if (clientGone) this.observer.abandoned(fields);
      else this.observer.refused(refusal, upstream, fields);
      this.requests.failed({
        requestId,
        endpoint,
        request,
        error: refusal,
        timings,
        accepted: upstream,
        clientGone,
      });
      finished();
      if (socket.writable && !socket.destroyed && !abort.signal.aborted) {
        refuseUpgrade(socket, refusal, requestId);
      } else socket.destroy();
    }
  }
}
