import { routeOfBackend, routeForModel, usageCost, type GatewayConfig } from '@aigw/config';
import type { EventPublisher } from '@aigw/contracts';
import {
  usageRecordedEvent,
  type GatewayRequest,
  type ServedBy,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { answerRecordWait, type MetricsRegistry } from '@aigw/observability';
import { billedUsage, type ReuseBilling } from './domain/reuse-billing';

/**
 * The usage event of an answer served without a provider call of its own (a cache hit
 * or a deduplicated follower): `cacheHit: true`, the provider and backend of the original
 * answer, and the tokens and cost the billing rule charges (none by default). The budget
 * service settles it like any usage event, so it also settles a hold taken for it.
 */
export class ReusePublisher {
  /**
   * Set when answers wait for their usage record (AI_GATEWAY_ANSWER_AFTER_RECORD=on, the
   * bus's `recordBarrier`): a reused answer is then sent through `reusedAndRecorded`.
   */
  private readonly barrier: (() => Promise<void>) | undefined;

  constructor(
    private readonly config: () => GatewayConfig,
    private readonly events: EventPublisher,
    private readonly metrics: MetricsRegistry,
    private readonly billing: ReuseBilling,
  ) {
    this.barrier = events.recordBarrier;
  }

  /** Whether a reused answer must wait until its usage event is durable. */
  get holdsAnswers(): boolean {
    return this.barrier !== undefined;
  }

  /**
   * `reused`, resolving once the event is durable: the answer goes after it. A failed write
   * does not hold the answer, as for a provider's (libs/providers' RecordGate): it goes,
   * counted as `failed`, and the event stays queued and is retried.
   */
  reusedAndRecorded(
    request: GatewayRequest,
    servedBy: ServedBy,
    original: TokenUsage,
  ): Promise<void> {
    // Not async: an event that could not be made throws here, before the caller counts it
    // as published.
    this.reused(request, servedBy, original);
    return this.barrier ? answerRecordWait(this.barrier, this.metrics) : Promise.resolve();
  }

  reused(request: GatewayRequest, servedBy: ServedBy, original: TokenUsage): void {
    const usage = billedUsage(this.billing, original);
    const config = this.config();
    const route =
      routeOfBackend(config.routes, servedBy.backend, servedBy.route) ??
      routeForModel(config, request.requestedModel);
    const billed = usage.inputTokens + usage.outputTokens > 0;
    const cost =
      route && billed
        ? usageCost(route, servedBy.model, usage, servedBy.provider)
        : { weightedTokens: 0, dollars: 0 };
    const user = request.caller.userKey;
    this.events.publish(usageRecordedEvent(request, servedBy, usage, cost, true));
    if (!billed) return;
    const model = request.requestedModel;
    this.metrics.recordTokens(
      { user, model },
      { input: usage.inputTokens, output: usage.outputTokens, cached: 0 },
    );
    if (cost.dollars > 0) this.metrics.addCost({ user, model }, cost.dollars);
  }

  /** A request joined an identical call in flight: it makes no backend call of its own. */
  joined(model: string): void {
    this.metrics.recordDedupFollower(model);
  }

  lookedUp(request: GatewayRequest, hit: boolean): void {
    if (hit) this.metrics.recordCacheHit(request.requestedModel);
    else this.metrics.recordCacheMiss(request.requestedModel);
  }
}
