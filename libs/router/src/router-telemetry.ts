import { createFallbackOccurred, FallbackReason, type EventPublisher } from '@aigw/contracts';
import type { BackendConfig } from '@aigw/config';
import type { FailoverTrigger, GatewayRequest } from '@aigw/contracts/data-plane';
import type { Logger, MetricsRegistry } from '@aigw/observability';
import type { ChainLink } from './domain/backend-chain';
import type { Cooldown } from './domain/backend-health';
import type { AppliedOverrides, RouterObserver } from './failover-router';

const REASON: Record<FailoverTrigger, FallbackReason> = {
  rateLimit: FallbackReason.RateLimit,
  timeout: FallbackReason.Timeout,
  error: FallbackReason.Error,
  budgetExceeded: FallbackReason.BudgetExceeded,
};

/**
 * Every failover becomes an event and a count on `ai_gateway_fallback_total`; every
 * cooldown a count on `ai_gateway_backend_cooldowns_total` and a warning in the log; a
 * client's overrides a count each on `ai_gateway_request_overrides_total` and a log line; a
 * stream cut for stalling a count on `ai_gateway_backend_stream_idle_timeouts_total` and a
 * warning; a stream its backend broke off a count on `ai_gateway_backend_streams_broken_total`;
 * an answer its backend's own content policy stopped a count on
 * `ai_gateway_backend_content_filtered_total`.
 */
export class RouterTelemetry implements RouterObserver {
  private readonly attempts = new WeakMap<GatewayRequest, number>();

  constructor(
    private readonly events: EventPublisher,
    private readonly metrics: MetricsRegistry,
    private readonly logger?: Logger,
  ) {}

  cooledDown(backend: BackendConfig, cooldown: Cooldown): void {
    this.metrics.recordBackendCooldown({ backend: backend.name, reason: cooldown.reason });
    this.logger?.warn('backend cooled down: tried only when no other backend is left', {
      backend: backend.name,
      provider: backend.provider,
      reason: cooldown.reason,
      seconds: Math.round(cooldown.ms / 100) / 10,
    });
  }

  streamStalled(backend: BackendConfig, request: GatewayRequest): void {
    this.metrics.recordStreamIdleTimeout(backend.name);
    this.logger?.warn('stream cut: its backend sent nothing for its streamIdleTimeout', {
      requestId: request.requestId,
      backend: backend.name,
      provider: backend.provider,
      idleMs: backend.streamIdleTimeoutMs,
    });
  }

  streamBroken(backend: BackendConfig): void {
    this.metrics.recordStreamBroken(backend.name);
  }

  policyStopped(backend: BackendConfig): void {
    this.metrics.recordBackendPolicyStop(backend.name);
  }

  overridden(request: GatewayRequest, applied: AppliedOverrides): void {
    if (applied.timeoutMs !== undefined) this.metrics.recordRequestOverride('timeout', false);
    if (applied.retries !== undefined) {
      this.metrics.recordRequestOverride('retries', applied.retriesClamped === true);
    }
    if (applied.fallback === false) this.metrics.recordRequestOverride('fallback', false);
    this.logger?.info('request overrides applied', { requestId: request.requestId, ...applied });
  }

  fallback(request: GatewayRequest, from: ChainLink, to: ChainLink, reason: FailoverTrigger): void {
    // Counts failovers, not calls: the first one is 1 (see FallbackOccurred.attempt).
    const attempt = (this.attempts.get(request) ?? 0) + 1;
    this.attempts.set(request, attempt);
    this.metrics.recordFallback({ from: from.backend.provider, to: to.backend.provider, reason });
    this.events.publish(
      createFallbackOccurred({
        requestId: request.requestId,
        partitionKey: request.caller.userKey,
        userId: request.caller.userKey,
        modelRequested: request.requestedModel,
        fromBackend: from.backend.name,
        fromProvider: from.backend.provider,
        fromModel: from.upstreamModel,
        toBackend: to.backend.name,
        toProvider: to.backend.provider,
        toModel: to.upstreamModel,
        reason: REASON[reason],
        attempt,
      }),
    );
  }
}
