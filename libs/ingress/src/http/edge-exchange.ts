import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayEndpoint } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type GatewayRequest,
  type JsonAnswer,
  type JsonObject,
  type Operation,
  type ServedBy,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import {
  admittedRequest,
  type Admission,
  type BudgetAdmission,
} from '../admission/budget-admission';
import { withAdmittedFamilies } from '../admission/admitted-families';
import type { ResponseReuse, ServedAnswer } from '../cache/response-reuse';
import { notCached, onlyIfCached } from '../cache/domain/cache-control';
import type { IngressPipeline, RouteAnswerReport } from '../ingress-pipeline';
import type { IngressObserver } from '../ingress-observer';
import { COST_HEADER, dollarText } from '../domain/answer-cost';
import { isUsageOnlyChunk, withUsageCost } from '../domain/usage-cost-field';
import { PayloadCapture } from '../payloads/payload-capture';
import { toDataPlaneError } from './openai-errors';

/** Writes one streamed answer in a public API's event format. */
export interface StreamRelay {
  /** Relays one canonical (OpenAI) chunk, respecting backpressure. */
  event(chunk: JsonObject): Promise<void>;
  /** A clean end; `usage` settles once the upstream stream is over. */
  end(usage: Promise<TokenUsage>): Promise<void>;
  /** An explicit error event, so a broken stream never looks like a finished one. */
  fail(error: DataPlaneError): void;
}

/** The public endpoint a call came in on, and the model operation it asks for. */
export interface EdgeCall {
  readonly endpoint: GatewayEndpoint;
  readonly operation: Operation;
}

/** What differs between the public APIs the edge speaks (OpenAI, Anthropic Messages). */
export interface EdgeDialect {
  /**
   * The request body in the canonical (OpenAI) format; absent when it already is. The
   * client's headers, for an API whose headers change what the body may say (Anthropic's
   * `anthropic-beta`).
   */
  readonly canonicalBody?: (body: unknown, headers?: FastifyRequest['headers']) => unknown;
  /**
   * The request completed from state the gateway keeps for its caller (the Responses
   * API's earlier turns), once the caller is known and before budgets and the cache see it.
   */
  readonly withState?: (
    request: GatewayRequest,
    clientBody: unknown,
    /** The headers the caller was identified by (`callerHeaders`'). */
    headers: FastifyRequest['headers'],
  ) => GatewayRequest | Promise<GatewayRequest>;
  /**
   * The body of a complete answer. `clientBody` is the request as the client sent it,
   * before `canonicalBody`, for an API whose answers repeat the request's settings. A
   * promise when there is work to finish before it is sent (storing it).
   */
  answerBody(answer: JsonAnswer, request: GatewayRequest, clientBody: unknown): unknown;
  /** Starts the event stream (status and headers) and returns its relay. */
  openStream(
    response: ServerResponse,
    headers: Record<string, string>,
    request: GatewayRequest,
    clientBody: unknown,
    /** The backend that answered, and what it reported of the request it sent. */
    servedBy?: ServedBy,
  ): StreamRelay;
  sendError(reply: FastifyReply, error: DataPlaneError, requestId: string): void;
  /**
   * The headers the caller is identified by, when the API carries its key elsewhere than
   * the client's headers (Google's `?key=`); the request's own headers otherwise.
   */
  readonly callerHeaders?: (http: FastifyRequest) => FastifyRequest['headers'];
  /**
   * Answers are OpenAI-format objects whose `usage` may also carry the call's cost
   * (`usage.cost`): the JSON answer's, and a stream's closing usage-only chunk's.
   */
  readonly costInUsage?: boolean;
}

/** Endpoints whose canonical body keeps the client's own content parts (and their paths). */
const CLIENT_SHAPED_PARTS: ReadonlySet<GatewayEndpoint> = new Set([
  GatewayEndpoint.ChatCompletions,
  GatewayEndpoint.Embeddings,
  GatewayEndpoint.Moderations,
  GatewayEndpoint.Rerank,
]);

/**
 * One request through the edge, whatever API it came in: prepare it (identity, prompt
 * rules), admit it against budgets, route it, write the answer, and report it. A client
 * that hangs up cancels the upstream call; a hold with no answer is released at once.
 */
export class EdgeExchange {
  constructor(
    private readonly pipeline: IngressPipeline,
    private readonly observer: IngressObserver,
    private readonly admission?: BudgetAdmission,
    private readonly reuse?: ResponseReuse,
  ) {}

  private readonly reportRedactions = (route: string, tally: ReadonlyMap<string, number>) =>
    this.observer.redacted?.(route, tally);

  private readonly reportSampledOut = (route: string) =>
    this.observer.payloadDropped?.(route, 'sampled_out');

  /** The request's payload to its observer, when its route logs it (the capture is there). */
  private logPayload(
    capture: PayloadCapture | undefined,
    outcome: { httpStatus: number; errorCode?: string; servedBy?: ServedBy },
    startedAt: number,
  ): void {
    if (capture) this.observer.payloadLogged?.(capture.finish(outcome, startedAt));
  }

  private readonly reportAnswer: RouteAnswerReport = (route) => ({
    redacted: (redactions) => this.observer.answerRedacted?.(route, redactions),
    blocked: (block) => this.observer.answerBlocked?.(route, block),
  });

  /** Answers the request; its end is reported once all of it is done, errors included. */
  async serve(
    { endpoint, operation }: EdgeCall,
    http: FastifyRequest,
    reply: FastifyReply,
    dialect: EdgeDialect,
  ): Promise<void> {
    this.observer.started(endpoint);
    /** The admission whose hold is kept from lapsing while this call runs. */
    let running: Admission | undefined;
    // In this one async function rather than around an inner one: a promise and a tick
    // less per request.
    try {
      const timings: { startedAt: number; firstByteAt?: number } = { startedAt: performance.now() };
      const requestId = http.id;
      // A client that hangs up cancels its upstream call.
      const abort = new AbortController();
      // `on`, not `once`: a response closes once, and once's wrapper and removal cost more.
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort(new Error('client disconnected'));
      });

      let request: GatewayRequest | undefined;
      let admission: Admission | undefined;
      let answered = false;
      let accepted = false;
      let reused = false;
      let capture: PayloadCapture | undefined;
      let servedBy: ServedBy | undefined;
      try {
        const body = dialect.canonicalBody
          ? dialect.canonicalBody(http.body, http.headers)
          : http.body;
        const headers = dialect.callerHeaders ? dialect.callerHeaders(http) : http.headers;
        // A promise only when a JWT must be verified; awaiting a plain value costs a tick.
        request = await this.pipeline.prepare(
          operation,
          body,
          headers,
          requestId,
          timings.startedAt,
        );
        if (dialect.withState) request = await dialect.withState(request, http.body, headers);
        // Once the body is whole: a stored turn may name a URL too.
        this.pipeline.checkMediaUrls(request, CLIENT_SHAPED_PARTS.has(endpoint));
        // Once the body is whole, and before the cache, budgets and the router read it.
        request = this.pipeline.redact(request, this.reportRedactions);
        // After redaction, so what is logged is masked as the provider sees it.
        const logging = this.pipeline.payloadLoggingFor(request);
        if (logging) {
          capture = PayloadCapture.start(logging, endpoint, request, this.reportSampledOut);
        }
        // With the route's cache or deduplication on: a cache hit, or an identical call to join.
        const plan = this.reuse?.plan(request, headers);
        const found = plan && (await this.reuse!.find(plan, request));
        // RFC 9111 only-if-cached: the stored answer or a 504, never a call (on any route).
        if (found?.source !== 'cache' && onlyIfCached(headers['cache-control'])) {
          throw notCached();
        }
        // A reused answer is admitted only when the billing rule charges for it.
        if (this.admission && (!found || this.reuse!.billsReuse)) {
          admission = await this.admission.admit(request);
          request = admittedRequest(request, admission);
          running = admission;
          this.admission.started(admission);
        } else if (this.admission && found) {
          // Not admitted (nothing to hold), yet told its limits as any answer is: a
          // promise only when the caller's limits are read from the store.
          const told = this.admission.limitHeaders(request);
          admission = { headers: told instanceof Promise ? await told : told };
        }
        this.observer.accepted(endpoint, request);
        accepted = true;
        const admitted = request;
        /** Whom a reused answer's usage event is for: no hold named once it was given back. */
        let reusedBy = admitted;
        let served: ServedAnswer | undefined = found;
        if (!served && plan) {
          served = await this.reuse!.call(
            plan,
            (signal) => this.pipeline.handle(admitted, signal, this.reportAnswer),
            abort.signal,
          );
          if (served.source === 'follower' && admission && !this.reuse!.billsReuse) {
            // Lost the race to lead: nothing of this caller's own will be billed. Its event
            // settling the released hold would read as a hold that lapsed under a call.
            void this.admission?.release(admission);
            admission = { headers: admission.headers };
            reusedBy = withoutHold(admitted);
          }
        }
        // Checked before the cache stores it; a hit is checked again (stored before the check?).
        const answer: GatewayAnswer = served
          ? found
            ? this.pipeline.checkAnswer(request, await served.answer, this.reportAnswer)
            : await served.answer
          : await this.pipeline.handle(request, abort.signal, this.reportAnswer);
        answered = true;
        servedBy = answer.servedBy;
        reused = served?.source === 'cache' || served?.source === 'follower';
        // Gone while the answer was on its way (a cache or a shared call does not stop for
        // it): recorded as the hang-up it is, not as an answer delivered.
        if (abort.signal.aborted) throw clientDisconnected();
        // AI_GATEWAY_ANSWER_AFTER_RECORD=on: a reused answer's usage event goes first and the
        // answer (a stream's end) waits until it is durable, as a provider's answer does.
        const held = reused && this.reuse!.holdsAnswers;
        const done = (usage: TokenUsage) => {
          if (reused && !held) this.reuse!.reused(reusedBy, answer.servedBy, usage);
          this.observer.completed(endpoint, admitted, answer.servedBy, usage, timings, {
            cached: reused,
          });
        };
        // Copied only when both have some: most answers carry neither.
        const limitHeaders = served?.headers
          ? { ...admission?.headers, ...served.headers }
          : admission?.headers;
        if (answer.kind === 'json') {
          const made = dialect.answerBody(answer, request, http.body);
          let body: unknown = made instanceof Promise ? await made : made;
          if (held) await this.reuse!.reusedAndRecorded(reusedBy, answer.servedBy, answer.usage);
          timings.firstByteAt = performance.now();
          // What this call cost its caller; a stream's is known only after its headers.
          const dollars = this.dollarsBilled(answer.servedBy, answer.usage, reused);
          if (dollars !== undefined) {
            void reply.header(COST_HEADER, dollarText(dollars));
            if (dialect.costInUsage) body = withUsageCost(body, dollars);
          }
          // A text answer (a transcript as srt, say) goes out as the media type it came as.
          if (answer.mediaType !== undefined) void reply.type(answer.mediaType);
          if (limitHeaders) void reply.headers(limitHeaders);
          void reply
            .header('x-request-id', requestId)
            .header('x-ai-gateway-backend', answer.servedBy.backend)
            .code(answer.status)
            .send(body);
          done(answer.usage);
          if (capture) {
            capture.answer(body);
            this.logPayload(capture, { httpStatus: answer.status, servedBy }, timings.startedAt);
          }
          return;
        }

        reply.hijack();
        const relay = dialect.openStream(
          reply.raw,
          {
            ...limitHeaders,
            'x-request-id': requestId,
            'x-ai-gateway-backend': answer.servedBy.backend,
          },
          request,
          http.body,
          answer.servedBy,
        );
        /** Its usage event published (`held`): the hold is then settled by it, not released. */
        let recorded = false;
        try {
          // Held back until the usage has settled, to carry the cost (`costInUsage`).
          let usageChunk: JsonObject | undefined;
          for await (const event of answer.events) {
            if (abort.signal.aborted) break;
            timings.firstByteAt ??= performance.now();
            capture?.chunk(event);
            if (dialect.costInUsage && isUsageOnlyChunk(event)) usageChunk = event;
            else await relay.event(event);
          }
          if (abort.signal.aborted) throw clientDisconnected();
          if (usageChunk) {
            const dollars = this.dollarsBilled(answer.servedBy, await answer.usage, reused);
            await relay.event(
              dollars === undefined ? usageChunk : withUsageCost(usageChunk, dollars),
            );
          }
          if (held) {
            const usage = await answer.usage;
            const recording = this.reuse!.reusedAndRecorded(reusedBy, answer.servedBy, usage);
            recorded = true; // its event is published (a throw above published none)
            await recording;
          }
          await relay.end(answer.usage);
          done(await answer.usage);
          this.logPayload(capture, { httpStatus: 200, servedBy }, timings.startedAt);
        } catch (error) {
          if (reused && admission && !recorded) {
            void this.admission?.release(admission);
          }
          const mapped = toDataPlaneError(error);
          relay.fail(mapped);
          // The stream's 200 went out; the error ended it.
          const sent = { httpStatus: reply.raw.headersSent ? reply.raw.statusCode : 0, servedBy };
          this.logPayload(capture, { ...sent, errorCode: mapped.code }, timings.startedAt);
          const failure = { requestId, endpoint, request, error: mapped, timings, accepted };
          this.observer.failed({ ...failure, ...hangUp(reply, abort.signal) });
        }
      } catch (error) {
        // A budget refusal past admission (the router's gate) with both families' headers.
        const mapped = withAdmittedFamilies(toDataPlaneError(error), admission?.headers);
        // No answer, or a reused one not delivered, means no usage event to settle the hold.
        if (admission && (!answered || reused)) void this.admission?.release(admission);
        const failure = { requestId, endpoint, request, error: mapped, timings, accepted };
        const gone = hangUp(reply, abort.signal);
        this.observer.failed({ ...failure, ...gone });
        if (!abort.signal.aborted) dialect.sendError(reply, mapped, requestId);
        const httpStatus = gone.clientGone ? (gone.statusSent ?? 0) : mapped.httpStatus;
        this.logPayload(
          capture,
          { httpStatus, errorCode: mapped.code, servedBy },
          timings.startedAt,
        );
      }
    } finally {
      if (running) this.admission?.ended(running);
      this.observer.finished(endpoint);
    }
  }

  /** What a call cost its caller: a reused answer is billed by the reuse rule. */
  private dollarsBilled(servedBy: ServedBy, usage: TokenUsage, reused: boolean) {
    const billed = reused ? this.reuse!.billedFor(usage) : usage;
    return this.pipeline.dollarsFor(servedBy, billed);
  }
}

/** The request without its budget hold (given back: nothing may settle it). */
function withoutHold(request: GatewayRequest): GatewayRequest {
  const { reservationId: _released, ...unheld } = request;
  return unheld;
}

function clientDisconnected(): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.Internal, 'the client disconnected');
}

/** Whether the client had gone when the request failed, and what status it had been sent. */
function hangUp(
  reply: FastifyReply,
  signal: AbortSignal,
): { clientGone: boolean; statusSent?: number } {
  return {
    clientGone: signal.aborted,
    statusSent: reply.raw.headersSent ? reply.raw.statusCode : undefined,
  };
}
