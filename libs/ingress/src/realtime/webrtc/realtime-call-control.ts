import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  callerOwnerKey,
  DataPlaneError,
  DataPlaneErrorCode,
  type CallerContext,
} from '@aigw/contracts/data-plane';
import { sendOpenAiError, toDataPlaneError } from '../../http/openai-errors';
import type { IngressPipeline } from '../../ingress-pipeline';
import type { ClientSecretGrant } from '../client-secrets/client-secret-grants';
import { digestOf } from '../client-secrets/client-secret-store';
import { clientSecretOf } from '../realtime-handshake';
import type { CallControlResult, RealtimeObserver } from '../realtime-telemetry';
import type { CallDirectory, CallRecord } from './call-directory';
import type { RealtimeCallWatch } from './realtime-call-watch';

/** A call this gateway placed and watches, as its control requests find it. */
export interface PlacedCall {
  readonly watch: RealtimeCallWatch;
  /** The owner key (callerOwnerKey) of the caller that placed it. */
  readonly owner: string;
  /** The model it was placed for: its route says how control requests' callers are identified. */
  readonly model: string;
}

/** The calls placed through this process, by call id, while they run. */
export class PlacedCalls {
  private readonly calls = new Map<string, PlacedCall>();

  add(callId: string, call: PlacedCall): void {
    this.calls.set(callId, call);
  }

  delete(callId: string): void {
    this.calls.delete(callId);
  }

  get(callId: string): PlacedCall | undefined {
    return this.calls.get(callId);
  }
}

/** OpenAI's call-control verbs: `POST /v1/realtime/calls/{call_id}/<verb>`. */
export const CALL_CONTROL_VERBS = ['hangup', 'accept', 'reject', 'refer'] as const;
type CallControlVerb = (typeof CALL_CONTROL_VERBS)[number];

/** The verbs that apply to an incoming SIP call only, never to a WebRTC call placed here. */
const SIP_ONLY_VERBS: ReadonlySet<CallControlVerb> = new Set(['accept', 'reject', 'refer']);

/** OpenAI's call ids; anything else is named in no answer. */
const CALL_ID = /^rtc_[A-Za-z0-9_-]{1,200}$/;

export interface RealtimeCallControlDeps {
  readonly pipeline: IngressPipeline;
  readonly calls: PlacedCalls;
  /** Told of each control request's result (`ai_gateway_realtime_call_controls_total`). */
  readonly observer: RealtimeObserver;
  /** Other replicas' calls (Redis); absent, a call is controlled where it was placed only. */
  readonly directory?: CallDirectory;
  /** A client secret's grant for the model named (throws when refused), as a call redeems it. */
  readonly redeem: (
    secret: string,
    model: string,
    fields: Record<string, string | undefined>,
  ) => Promise<ClientSecretGrant>;
}

/**
 * The one answer for a call the caller may not control: unknown, placed by another caller,
 * already over, or (without a shared directory) placed through another replica. The same
 * for each, so it tells nobody that someone else's call exists.
 */
function callNotFound(callId: string, shared: boolean): DataPlaneError {
  const named = CALL_ID.test(callId) ? ` '${callId}'` : '';
  return new DataPlaneError(
    DataPlaneErrorCode.NotFound,
    `No active realtime call${named} placed by you through this gateway.` +
      (shared
        ? ''
        : ' Calls are controlled through the gateway replica that placed them, while they run.'),
    { upstreamCode: 'not_found' },
  );
}

const STORE_RETRY_AFTER_MS = 1_000;

/** The directory did not answer: the gateway's trouble, a 503 to retry. */
function directoryUnavailable(cause: unknown): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.NoBackendAvailable,
    'The gateway could not reach its store of realtime calls. Try again shortly.',
    { upstreamCode: 'call_store_unavailable', retryAfterMs: STORE_RETRY_AFTER_MS, cause },
  );
}

/** A call as a control request finds it: watched here, or by another replica. */
type FoundCall =
  | { readonly here: PlacedCall; readonly elsewhere?: undefined }
  | { readonly elsewhere: CallRecord; readonly here?: undefined };

/** How a control request that was refused counts: the caller's miss, or the gateway's trouble. */
function refusedControl(refusal: DataPlaneError): CallControlResult {
  if (refusal.httpStatus >= 500) return 'unavailable';
  return refusal.code === DataPlaneErrorCode.InvalidRequest ? 'not_sip_call' : 'not_found';
}

/** Accept, reject and refer on a WebRTC call: they apply to incoming SIP calls only. */
function notSipCall(verb: CallControlVerb, callId: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `'${verb}' applies to incoming SIP calls; '${callId}' is a WebRTC call placed through ` +
      `this gateway, which takes no SIP calls. End it with POST /v1/realtime/calls/${callId}/hangup`,
    { param: 'call_id' },
  );
}

/**
 * OpenAI's call control for the calls this gateway placed (POST /v1/realtime/calls):
 * `hangup` ends the call as its caller asks (the backend hangs it up with its own key, the
 * sideband's last responses are billed and the session's request completes); `accept`,
 * `reject` and `refer` are for incoming SIP calls, which only the backend's own project
 * receives (its webhook, never the gateway): on a call of the gateway's they are a 400,
 * and any other call id is a 404, never forwarded with the gateway's key, which would let
 * any caller steer another's SIP calls. Only the caller that placed a call, identified as
 * its model's route identifies callers (or by a client secret it minted), controls it;
 * anyone else gets the 404 of an unknown call. A call is watched by the replica that placed
 * it; with a directory (REDIS_URL) another replica finds it there and passes the hang-up on
 * (answered once that replica heard it; the backend's hang-up follows), without one it is
 * that replica's alone.
 */
export class RealtimeCallControl {
  constructor(private readonly deps: RealtimeCallControlDeps) {}

  register(fastify: FastifyInstance, callsPath: string): void {
    for (const verb of CALL_CONTROL_VERBS) {
      fastify.post(`${callsPath}/:callId/${verb}`, (request, reply) =>
        this.serve(verb, request, reply),
      );
    }
  }

  private async serve(
    verb: CallControlVerb,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const { callId } = request.params as { callId: string };
    const { observer } = this.deps;
    const fields = {
      requestId: request.id,
      verb,
      callId: CALL_ID.test(callId) ? callId : undefined,
    };
    try {
      const call = await this.controlled(callId, request);
      if (SIP_ONLY_VERBS.has(verb)) throw notSipCall(verb, callId);
      if (call.here) await call.here.watch.hangUp();
      else if (!(await this.passedOn(callId, call.elsewhere))) throw this.notFound(callId);
      observer.callControl?.(verb, call.here ? 'hung_up' : 'passed_on', fields);
      void reply.code(200).header('cache-control', 'no-store').send();
    } catch (error) {
      const refusal = toDataPlaneError(error);
      observer.callControl?.(verb, refusedControl(refusal), {
        ...fields,
        status: refusal.httpStatus,
        code: refusal.upstreamCode ?? refusal.code,
      });
      sendOpenAiError(reply, refusal, request.id);
    }
  }

  /** The call, when the request's caller is the one that placed it; a 404 otherwise. */
  private async controlled(callId: string, request: FastifyRequest): Promise<FoundCall> {
    const here = this.deps.calls.get(callId);
    const elsewhere = here ? undefined : await this.recorded(callId);
    const model = here?.model ?? elsewhere?.model;
    if (model === undefined) throw this.notFound(callId);
    let owner: string | undefined;
    try {
      owner = await this.ownerOf(model, request);
    } catch (error) {
      // A credential that identifies nobody controls nothing: said as for an unknown call.
      // The gateway's own trouble identifying it (keys or secrets store away) is its 503:
      // a 404 would tell the caller the call is over while it runs on, billed.
      const refusal = toDataPlaneError(error);
      if (refusal.httpStatus >= 500) throw refusal;
    }
    if (here && owner === here.owner) return { here };
    if (elsewhere && owner !== undefined && digestOf(owner) === elsewhere.ownerDigest) {
      return { elsewhere };
    }
    throw this.notFound(callId);
  }

  /** Another replica's call, from the directory (none without one). */
  private async recorded(callId: string): Promise<CallRecord | undefined> {
    const { directory } = this.deps;
    if (!directory || !CALL_ID.test(callId)) return undefined;
    try {
      return await directory.find(callId);
    } catch (error) {
      throw directoryUnavailable(error);
    }
  }

  /** Passes the hang-up on to the replica watching the call; false when it is gone. */
  private async passedOn(callId: string, record: CallRecord): Promise<boolean> {
    try {
      return await this.deps.directory!.askHangUp(callId, record);
    } catch (error) {
      throw directoryUnavailable(error);
    }
  }

  private notFound(callId: string): DataPlaneError {
    return callNotFound(callId, this.deps.directory !== undefined);
  }

  /** The request's caller's owner key, as the call's route (or its client secret) names it. */
  private async ownerOf(model: string, request: FastifyRequest): Promise<string | undefined> {
    const secret = clientSecretOf(request.headers);
    if (secret !== undefined) {
      const fields = { requestId: request.id, transport: 'webrtc' };
      const caller: CallerContext = (await this.deps.redeem(secret, model, fields)).caller;
      return callerOwnerKey(caller);
    }
    return this.deps.pipeline.ownerKeyFor(model, request.headers);
  }
}
