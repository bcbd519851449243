import type { EventPublisher } from '@aigw/contracts';
import {
  BackendSilence,
  DataPlaneError,
  DataPlaneErrorCode,
  realtimeUsage,
  responseDone,
  transcriptionModel,
  transcriptionUsage,
  usageRecordedEvent,
  type GatewayAnswer,
  type RealtimeCall,
  type RealtimeConnection,
  type RealtimeProvider,
  type ProviderCall,
  type ProviderPort,
  type ServedBy,
  type TokenUsage,
  type UsagePrice,
} from '@aigw/contracts/data-plane';
import {
  spanAttributes,
  type BackendCallResult,
  type GenAiLabels,
  type MetricsRegistry,
} from '@aigw/observability';
import { servedByOf } from '../core/openai-wire';
import { ProviderRegistry } from '../core/provider-registry';
import { takeSpentUsage } from '../core/spent-usage';
import { configureUpstreamConnections, upstreamPoolStates } from '../core/upstream-http';
import { defaultProviderAdapters } from '../default-adapters';
import { RealtimeConnector } from '../realtime/realtime-connector';
import { RecordGate, RecordGatedRelay } from './record-gate';

/** Prices a call's usage: budget-weighted tokens and dollars. */
export type PriceUsage = (call: ProviderCall, servedBy: ServedBy, usage: TokenUsage) => UsagePrice;

/**
 * A PriceUsage, and optionally `forCall`: the prices in force as a call starts, which its
 * usage is priced at when it comes (a stream's at its end), whatever a reload did meanwhile.
 */
export type UsagePricing = PriceUsage & {
  readonly forCall?: (call: ProviderCall) => PriceUsage;
};

/**
 * Records what every provider call consumed, once its usage is known (at the end of a
 * stream): one token-usage event for budgets and analytics, and the token, cost and
 * latency metrics. Wraps the adapters so no adapter can forget it.
 */
export class MeteredProviderPort implements ProviderPort, RealtimeProvider {
  /** Set when answers wait for their usage record (the publisher's `recordBarrier`). */
  private readonly gate: RecordGate | undefined;

  constructor(
    private readonly inner: ProviderPort,
    private readonly events: EventPublisher,
    private readonly metrics: MetricsRegistry,
    private readonly pricing: UsagePricing,
    /** Opens Realtime sessions; absent, a session is refused. */
    private readonly realtime?: RealtimeProvider,
  ) {
    const barrier = events.recordBarrier;
    this.gate = barrier && new RecordGate(barrier, metrics);
  }

  /**
   * A Realtime session, metered per response: each `response.done` that reports usage is
   * one usage event (operation `realtime`) for the session's caller and model. The first
   * carries the session's budget hold, which it settles; the later ones spend as they come.
   * The input audio's transcription is billed apart, as OpenAI bills it: each
   * `conversation.item.input_audio_transcription.completed` is one usage event for the
   * transcription model the backend's `session.created`/`session.updated` named.
   */
  async connectRealtime(call: RealtimeCall): Promise<RealtimeConnection> {
    if (!this.realtime) {
      throw new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        'realtime sessions are not served here',
      );
    }
    const { target } = call;
    const servedBy = servedByOf(target);
    const price = this.priceFor(call);
    let request = call.request;
    /** The transcription model the session runs now ('' when not known yet). */
    let transcriber = '';
    // AI_GATEWAY_ANSWER_AFTER_RECORD=on: a frame that carried a record reaches the client
    // once the record is durable, the frames after it behind it.
    const relay = this.gate && new RecordGatedRelay(this.gate, call.listener);
    const listener = {
      frame: (frame: Parameters<RealtimeCall['listener']['frame']>[0]) => {
        const named = transcriptionModel(frame);
        if (named !== undefined) transcriber = named ?? '';
        const transcribed = transcriptionUsage(frame);
        let recorded = false;
        if (transcribed) {
          recorded = true;
          // Priced as that model on this backend; unpriced (and counted so) if never named.
          const model = transcriber || 'unknown-transcription-model';
          this.recordUsage(
            { ...call, request: { ...request, reservationId: undefined } },
            { ...servedBy, model },
            transcribed,
            price,
          );
        }
        const done = responseDone(frame);
        const usage = done && realtimeUsage(done);
        if (usage) {
          recorded = true;
          this.recordUsage({ ...call, request }, servedBy, usage, price);
          // Settled once: the responses after it are not held.
          if (request.reservationId !== undefined)
            request = { ...request, reservationId: undefined };
        }
        if (relay) relay.frame(frame, recorded);
        else call.listener.frame(frame);
      },
      closed: (code: number, reason: string) =>
        relay ? relay.closed(code, reason) : call.listener.closed(code, reason),
    };
    try {
      const connection = await this.realtime.connectRealtime({ ...call, listener });
      this.metrics.recordBackendCall(target.backendName, 'ok');
      return connection;
    } catch (error) {
      this.metrics.recordBackendCall(target.backendName, callResult(error, call.signal));
      throw error;
    }
  }

  /**
   * One answer's usage: its usage event, token and cost metrics. A call's latency is
   * `record`'s; a Realtime response has none of its own.
   */
  private recordUsage(
    call: ProviderCall,
    servedBy: ServedBy,
    usage: TokenUsage,
    priceUsage: PriceUsage,
  ): void {
    const { request } = call;
    const user = request.caller.userKey;
    const price = priceUsage(call, servedBy, usage);
    this.events.publish(usageRecordedEvent(request, servedBy, usage, price, false));
    const model = request.requestedModel;
    this.metrics.recordTokens(
      { user, model },
      {
        input: usage.inputTokens,
        output: usage.outputTokens,
        cached: usage.cachedInputTokens,
        cache_write: usage.cacheWriteInputTokens,
        cache_write_1h: usage.cacheWrite1hInputTokens,
        image_input: usage.imageInputTokens,
        image_output: usage.imageOutputTokens,
      },
    );
    if (price.dollars > 0) this.metrics.addCost({ user, model }, price.dollars);
    // Web searches are billed per run beside the tokens: the price above includes them.
    if (usage.serverToolRequests)
      this.metrics.recordServerToolRequests(model, usage.serverToolRequests);
  }

  /**
   * What a failed call spent upstream before it failed (spent-usage: the answered calls of
   * a long embeddings list), recorded as spent without the request's hold, which stays for
   * the attempt that serves the request, or is given back when none does.
   */
  private recordSpent(call: ProviderCall, error: unknown, price: PriceUsage): void {
    const usage = takeSpentUsage(error);
    if (!usage) return;
    this.recordUsage(withoutHold(call), servedByOf(call.target), usage, price);
  }

  /** The prices in force now, for a call starting now (see UsagePricing's `forCall`). */
  private priceFor(call: ProviderCall): PriceUsage {
    return this.pricing.forCall?.(call) ?? this.pricing;
  }

  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    const startedAt = performance.now();
    const price = this.priceFor(call);
    const labels = {
      operation: spanAttributes.GEN_AI_OPERATION[call.request.operation],
      requestModel: call.request.requestedModel,
      responseModel: call.target.model,
      provider: call.target.provider,
    };
    let answer: GatewayAnswer;
    try {
      answer = await this.inner.invoke(call);
    } catch (error) {
      this.metrics.recordBackendCall(call.target.backendName, callResult(error, call.signal));
      const errorType = (error as { code?: unknown }).code;
      this.metrics.observeGenAiRequestDuration(
        labels,
        (performance.now() - startedAt) / 1000,
        typeof errorType === 'string' ? errorType : 'error',
      );
      this.recordSpent(call, error, price);
      throw error;
    }
    this.metrics.recordBackendCall(call.target.backendName, 'ok');
    // What the adapter left out of the request it sent (names and reasons, never values).
    // Guarded rather than `?? []`: most answers drop nothing, and this runs on every call.
    const dropped = answer.servedBy.droppedSettings;
    if (dropped !== undefined) {
      for (const { setting, reason } of dropped) {
        this.metrics.recordRequestSettingDropped(call.target.provider, setting, reason);
      }
    }
    if (this.gate) {
      return this.answerAfterRecord(this.gate, call, answer, startedAt, labels, price);
    }
    if (answer.kind === 'json') {
      void Promise.resolve(answer.usage).then((settled) =>
        this.record(call, answer.servedBy, settled, startedAt, labels, price),
      );
    } else {
      void answer.usage.then((settled) =>
        this.recordStream(call, answer.servedBy, settled, startedAt, labels, price),
      );
    }
    return answer;
  }

  /**
   * AI_GATEWAY_ANSWER_AFTER_RECORD=on: a JSON answer is returned once its usage event is
   * durable; a stream's chunks flow as they come and its end waits the same.
   */
  private async answerAfterRecord(
    gate: RecordGate,
    call: ProviderCall,
    answer: GatewayAnswer,
    startedAt: number,
    labels: GenAiLabels,
    price: PriceUsage,
  ): Promise<GatewayAnswer> {
    if (answer.kind === 'json') {
      this.record(call, answer.servedBy, answer.usage, startedAt, labels, price);
      await gate.passed();
      return answer;
    }
    const recorded = answer.usage.then((settled) =>
      this.recordStream(call, answer.servedBy, settled, startedAt, labels, price),
    );
    return { ...answer, events: gate.endingAfterRecord(answer.events, recorded) };
  }

  /**
   * A stream's usage, once its caller decided on the stream: one given up before its first
   * event (the router failing over) only spends, its hold left for the attempt that serves.
   */
  private recordStream(
    call: ProviderCall,
    servedBy: ServedBy,
    usage: TokenUsage,
    startedAt: number,
    labels: GenAiLabels,
    price: PriceUsage,
  ): void {
    const commit = call.streamCommit;
    if (!commit) return this.record(call, servedBy, usage, startedAt, labels, price);
    commit.decided((kept) => {
      this.record(kept ? call : withoutHold(call), servedBy, usage, startedAt, labels, price);
    });
  }

  private record(
    call: ProviderCall,
    servedBy: ServedBy,
    usage: TokenUsage,
    startedAt: number,
    labels: GenAiLabels,
    price: PriceUsage,
  ): void {
    const seconds = (performance.now() - startedAt) / 1000;
    const { request } = call;
    this.recordUsage(call, servedBy, usage, price);
    const model = request.requestedModel;
    this.metrics.observeRequestDuration({ provider: servedBy.provider, model }, seconds);
    this.metrics.observeGenAiRequestDuration(labels, seconds);
    this.metrics.recordGenAiTokenUsage(labels, {
      input: usage.inputTokens,
      output: usage.outputTokens,
    });
    // The time per output token is the edge's (IngressTelemetry): a call's duration includes
    // the wait for its first token, which is no token's time.
  }
}

/** The call as recorded when it only spends: its request's hold is left to another attempt. */
function withoutHold(call: ProviderCall): ProviderCall {
  return { ...call, request: { ...call.request, reservationId: undefined } };
}

/** How a failed call began, in the vocabulary of `ai_gateway_backend_requests_total`. */
function callResult(error: unknown, signal: AbortSignal): BackendCallResult {
  // The router cancels a call its backend left silent past the first-byte timeout.
  if (signal.aborted) return signal.reason instanceof BackendSilence ? 'timeout' : 'cancelled';
  if (!(error instanceof DataPlaneError)) return 'error';
  switch (error.code) {
    case DataPlaneErrorCode.UpstreamRateLimited:
      return 'rate_limited';
    case DataPlaneErrorCode.UpstreamTimeout:
      return 'timeout';
    case DataPlaneErrorCode.UpstreamRejected:
    case DataPlaneErrorCode.InvalidRequest:
      return 'rejected';
    default:
      return 'error';
  }
}

export interface MeteredProvidersOptions {
  readonly events: EventPublisher;
  readonly metrics: MetricsRegistry;
  readonly pricing: UsagePricing;
  /** Connections to one backend origin at once (AI_GATEWAY_UPSTREAM_CONNECTIONS). */
  readonly connections: number;
}

/**
 * Every provider adapter behind metering, as a process serves them (the all-in-one
 * gateway, the provider-adapter service): on the shared upstream agent sized by
 * `connections`, whose pools the metrics read at each scrape.
 */
export function meteredProviders(options: MeteredProvidersOptions): MeteredProviderPort {
  configureUpstreamConnections(options.connections);
  options.metrics.watchUpstreamPools(upstreamPoolStates);
  return new MeteredProviderPort(
    new ProviderRegistry(
      defaultProviderAdapters({
        onTokenRefresh: (event) =>
          options.metrics.recordProviderTokenRefresh(event.backend, event.source, event.result),
      }),
    ),
    options.events,
    options.metrics,
    options.pricing,
    new RealtimeConnector(),
  );
}
