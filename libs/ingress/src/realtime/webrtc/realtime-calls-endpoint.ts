import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayEndpoint } from '@aigw/contracts';
import {
  callerOwnerKey,
  DataPlaneError,
  DataPlaneErrorCode,
  withRealtimeCallOffer,
  type GatewayRequest,
  type JsonObject,
  type RealtimeCallAnswer,
  type RealtimeCallOffer,
  type RealtimeRouter,
  type ServedBy,
} from '@aigw/contracts/data-plane';
import {
  admittedRequest,
  type Admission,
  type BudgetAdmission,
} from '../../admission/budget-admission';
import { sendOpenAiError, toDataPlaneError } from '../../http/openai-errors';
import type { IngressObserver, RequestTimings } from '../../ingress-observer';
import type { IngressPipeline } from '../../ingress-pipeline';
import type { ClientSecretGrant } from '../client-secrets/client-secret-grants';
import { clientSecretOf } from '../realtime-handshake';
import type { SessionEnd } from '../realtime-session';
import type { RealtimeObserver } from '../realtime-telemetry';
import { parseCallRequest, type CallRequest } from './call-offer';
import type { CallDirectory } from './call-directory';
import { PlacedCalls, RealtimeCallControl } from './realtime-call-control';
import { RealtimeCallWatch } from './realtime-call-watch';
import { refuseUncheckedAnswers } from '../../redaction/unchecked-answers';

/**
 * How long the answer may trail the connection (a frame behind the hops' upgrades): far
 * more than it takes, and short of a browser's own wait for it.
 */
const ANSWER_WAIT_MS = 10_000;

/**
 * What the split deployment's Realtime hops carry of a call's offer: the session request
 * crosses each hop in a header (base64 JSON), within Node's 16 KiB of headers, with room
 * for the request's other fields.
 */
export const SPLIT_HOP_MAX_CALL_OFFER_BYTES = 8 * 1024;

/** The path, under each public prefix (PATH_PREFIXES: `/v1`, none, Azure's). */
export const REALTIME_CALLS_PATH = '/realtime/calls';

/** What the edge lends the calls: its router, its secrets and how it ends a session's request. */
export interface RealtimeCallsDeps {
  readonly pipeline: IngressPipeline;
  readonly router: RealtimeRouter;
  readonly observer: RealtimeObserver;
  readonly requests: IngressObserver;
  readonly admission?: BudgetAdmission;
  /** The largest offer (SDP and session, as JSON) this deployment carries; unset, any. */
  readonly maxOfferBytes?: number;
  /** A client secret's grant for the model named (a 401 when refused), as a session redeems it. */
  readonly redeem: (
    secret: string,
    model: string | undefined,
    fields: Record<string, string | undefined>,
  ) => Promise<ClientSecretGrant>;
  /**
   * Every replica's calls (REDIS_URL), so a control request served by another replica
   * reaches the one watching the call; absent, each controls its own.
   */
  readonly directory?: CallDirectory;
  /** An open session's end as its request's (completed, or failed and why). */
  readonly ended: (
    request: GatewayRequest,
    servedBy: ServedBy,
    timings: RequestTimings,
    end: SessionEnd,
  ) => void;
}

/**
 * `POST /v1/realtime/calls`: OpenAI's Realtime over WebRTC. The browser posts its SDP offer
 * with a gateway client secret (`ek_…`) or any credential a Realtime socket takes; it is
 * identified, checked against its tier and admitted against budgets as a `/v1/realtime`
 * upgrade is, with the same errors. The call is created on the model's OpenAI backend with
 * the backend's key and the secret's (or the form's) session configuration, and
 * the backend's SDP answer goes back (201, `Location: /v1/realtime/calls/rtc_…`). The media
 * then flows between the browser and OpenAI; the gateway watches the call's sideband and
 * bills each response as a socket session's, until the call ends.
 */
export class RealtimeCallsEndpoint {
  /** Calls being watched, hung up when the gateway stops. */
  private readonly calls = new Set<RealtimeCallWatch>();
  /** The same calls by id, for their callers' control requests (`…/calls/{id}/hangup`). */
  private readonly placed = new PlacedCalls();
  /** Hearing the hang-ups other replicas pass on: from the first call placed here. */
  private listening = false;
  /** Records of ended calls being deleted from the directory, awaited before it closes. */
  private readonly forgetting = new Set<Promise<void>>();

  constructor(private readonly deps: RealtimeCallsDeps) {}

  /**
   * In a scope of its own: the body is read whole as bytes whatever its type (an SDP, a
   * form), where the app's parsers would refuse both. The calls' control requests with it.
   */
  register(fastify: FastifyInstance, prefix: string): void {
    void fastify.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) =>
        done(null, body),
      );
      scope.post(prefix + REALTIME_CALLS_PATH, (request, reply) => this.serve(request, reply));
      new RealtimeCallControl({
        pipeline: this.deps.pipeline,
        calls: this.placed,
        observer: this.deps.observer,
        redeem: this.deps.redeem,
        directory: this.deps.directory,
      }).register(scope, prefix + REALTIME_CALLS_PATH);
    });
  }

  /** The gateway is stopping: every watched call is hung up (nothing would bill it after). */
  close(): void {
    for (const call of [...this.calls]) call.shutdown();
    const { directory } = this.deps;
    if (directory) void Promise.allSettled(this.forgetting).then(() => directory.close());
  }

  /** Deletes an ended call's record, after its announcement so none outlives the call. */
  private forget(callId: string, announced: Promise<void> | undefined): void {
    const { directory } = this.deps;
    if (!directory || !announced) return;
    const forgotten = announced
      .then(() => directory.ended(callId))
      .catch(() => undefined)
      .finally(() => this.forgetting.delete(forgotten));
    this.forgetting.add(forgotten);
  }

  /**
   * Tells the other replicas of a call watched here (and from the first, hears the hang-ups
   * they pass on); resolves once told, or not (a directory away leaves the call controlled
   * here only). Never rejects.
   */
  private announce(callId: string, owner: string, model: string): Promise<void> {
    const { directory } = this.deps;
    if (!directory) return Promise.resolve();
    if (!this.listening) {
      this.listening = true;
      directory
        .listen((id) => void this.placed.get(id)?.watch.hangUp())
        .catch(() => (this.listening = false));
    }
    return directory.placed(callId, owner, model).catch(() => undefined);
  }

  private async serve(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { observer, requests, admission: budgets } = this.deps;
    const endpoint = GatewayEndpoint.Realtime;
    const requestId = request.id;
    requests.started(endpoint);
    const timings: { startedAt: number; firstByteAt?: number } = { startedAt: performance.now() };
    const fields: Record<string, string | undefined> = { requestId, transport: 'webrtc' };
    const abort = new AbortController();
    const gone = () => {
      if (!reply.raw.writableEnded) abort.abort(new Error('client disconnected'));
    };
    reply.raw.once('close', gone);
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      requests.finished(endpoint);
    };
    let admission: Admission | undefined;
    let gatewayRequest: GatewayRequest | undefined;
    let upstream = false;
    try {
      const asked = parseCallRequest(request.headers['content-type'], request.body);
      const prepared = await this.prepared(request, asked, fields, timings.startedAt);
      gatewayRequest = prepared.request;
      Object.assign(fields, {
        model: gatewayRequest.requestedModel,
        user: gatewayRequest.caller.userKey,
      });
      const offer: RealtimeCallOffer = {
        sdp: asked.offer.sdp,
        ...(prepared.session ? { session: prepared.session } : {}),
      };
      // A refusal of the request itself, before any budget is held or the call counted.
      this.refuseOversized(offer);
      if (budgets) {
        admission = await budgets.admit(gatewayRequest);
        gatewayRequest = admittedRequest(gatewayRequest, admission);
        // Kept from lapsing while the call runs, until its first response's usage settles it.
        budgets.started(admission);
      }
      const admitted = gatewayRequest;
      requests.accepted(endpoint, admitted);
      upstream = true;
      // Set once the call is answered: the session's request ends as served by it.
      let servedBy: ServedBy | undefined = undefined;
      // Set once the call is placed: its announcement to the other replicas.
      let announced: Promise<void> | undefined = undefined;
      const watch = new RealtimeCallWatch({
        observer,
        fields,
        spentLimit: budgets && (() => budgets.spentLimit(admitted)),
        finished: (end) => {
          this.calls.delete(watch);
          const callId = watch.answer?.callId;
          if (callId) {
            this.placed.delete(callId);
            this.forget(callId, announced);
          }
          if (admission) budgets?.ended(admission);
          // No response reported usage: nothing will settle the hold.
          if (!end.usage && admission) void budgets?.release(admission);
          if (servedBy) this.deps.ended(admitted, servedBy, timings, end);
          finished();
        },
      });
      const connection = await this.deps.router.connectRealtime(
        withRealtimeCallOffer(admitted, offer),
        watch.listener,
        abort.signal,
      );
      fields.backend = connection.servedBy.backend;
      const answer = await answerOf(watch, abort.signal);
      if (!answer || abort.signal.aborted) {
        connection.close(1001); // hangs the call up: nobody would join it
        throw answer
          ? new DataPlaneError(DataPlaneErrorCode.Internal, 'the client disconnected')
          : new DataPlaneError(
              DataPlaneErrorCode.UpstreamError,
              'the realtime call was not answered',
            );
      }
      reply.raw.off('close', gone);
      servedBy = connection.servedBy;
      fields.callId = answer.callId;
      timings.firstByteAt = performance.now();
      this.calls.add(watch);
      const owner = callerOwnerKey(admitted.caller);
      this.placed.add(answer.callId, { watch, owner, model: admitted.requestedModel });
      announced = this.announce(answer.callId, owner, admitted.requestedModel);
      watch.attach(connection);
      void reply
        .code(201)
        .header('content-type', 'application/sdp')
        .header('location', `/v1/realtime/calls/${answer.callId}`)
        .header('cache-control', 'no-store')
        .send(answer.sdp);
    } catch (error) {
      reply.raw.off('close', gone);
      if (admission) void budgets?.release(admission);
      const refusal = toDataPlaneError(error);
      const clientGone = abort.signal.aborted;
      if (clientGone) observer.abandoned(fields);
      else observer.refused(refusal, upstream, fields);
      requests.failed({
        requestId,
        endpoint,
        request: gatewayRequest,
        error: refusal,
        timings,
        accepted: upstream,
        clientGone,
      });
      finished();
      if (!clientGone) sendOpenAiError(reply, refusal, requestId);
    }
  }

  /** A 400 for an offer past what this deployment carries, before any backend is called. */
  private refuseOversized(offer: RealtimeCallOffer): void {
    const limit = this.deps.maxOfferBytes;
    if (limit === undefined || Buffer.byteLength(JSON.stringify(offer)) <= limit) return;
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `The call's SDP offer and session configuration together pass the ${limit} bytes this ` +
        'deployment (ingress, router and provider-adapter apart) carries; the all-in-one ' +
        'gateway takes larger ones, or shorten the session configuration',
      { param: 'sdp' },
    );
  }

  /**
   * The call's request as a socket session's, and the session configuration it is created
   * with: a client secret's caller and configuration (the form's `session` applied over it),
   * or the caller its credential names and the form's (a route that screens text takes no calls).
   */
  private async prepared(
    request: FastifyRequest,
    asked: CallRequest,
    fields: Record<string, string | undefined>,
    startedAt: number,
  ): Promise<{ request: GatewayRequest; session?: JsonObject }> {
    const { pipeline } = this.deps;
    const named = modelOf(request.query) ?? asked.model;
    const secret = clientSecretOf(request.headers);
    let prepared: GatewayRequest;
    let bound: JsonObject | undefined;
    if (secret !== undefined) {
      const grant = await this.deps.redeem(secret, named, fields);
      bound = grant.session;
      prepared = pipeline.prepareAs(
        'realtime',
        { model: grant.model },
        grant,
        request.id,
        startedAt,
      );
    } else {
      if (!named) {
        throw new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          "'model' is required: POST /v1/realtime/calls?model=<model>, or name it in the form's 'session'",
          { param: 'model' },
        );
      }
      prepared = await pipeline.prepare(
        'realtime',
        { model: named },
        request.headers,
        request.id,
        startedAt,
      );
    }
    refuseUnscreenedRoute(pipeline, prepared.requestedModel);
    const own = asked.offer.session;
    const session = bound || own ? { ...bound, ...own } : undefined;
    return { request: prepared, ...(session ? { session } : {}) };
  }
}

/**
 * The call's answer as it comes after the connection: at once in one process, behind the
 * split deployment's hops else. Undefined if it never came (the sideband closed, the
 * client left, or the wait ran out).
 */
async function answerOf(
  watch: RealtimeCallWatch,
  signal: AbortSignal,
): Promise<RealtimeCallAnswer | undefined> {
  if (watch.answer) return watch.answer;
  let timer: NodeJS.Timeout | undefined;
  const givenUp = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ANSWER_WAIT_MS);
    signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  try {
    return await Promise.race([watch.answered, givenUp]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A call's data channel runs between the browser and OpenAI: the gateway never sees the
 * events a route's prompt rules or answer checks would read. A route that screens text
 * keeps its promise by refusing calls; its WebSocket sessions have their prompt events
 * screened event by event (a route checking answers takes no session at all).
 */
function refuseUnscreenedRoute(pipeline: IngressPipeline, model: string): void {
  // Not pointed to the WebSocket, whose answers pass unchecked as well.
  refuseUncheckedAnswers(pipeline, model);
  if (!pipeline.screensText(model)) return;
  throw new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `The route serving '${model}' screens prompts or answers (security.promptValidation, ` +
      "security.responseValidation), and a WebRTC call's data channel would pass them " +
      'unchecked: open a Realtime WebSocket (GET /v1/realtime) instead',
    { param: 'model' },
  );
}

/** `?model=` of the request, if it names one. */
function modelOf(query: unknown): string | undefined {
  const model = (query as Record<string, unknown> | undefined)?.model;
  return typeof model === 'string' && model !== '' ? model : undefined;
}
