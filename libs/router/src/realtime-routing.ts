import { canonicalProvider, type GatewayConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  renameRealtimeModel,
  type FailoverTrigger,
  type GatewayRequest,
  type RealtimeConnection,
  type RealtimeListener,
  type RealtimeProvider,
  type RealtimeRouter,
  type UpstreamTarget,
  upstreamTargetOf,
} from '@aigw/contracts/data-plane';
import {
  isAuthenticated,
  isUnresolved,
  planBackendChain,
  type ChainLink,
} from './domain/backend-chain';
import { BackendBalancer } from './domain/backend-balancer';
import type { BackendHealth } from './domain/backend-health';
import { modelCallFailure } from './domain/model-call-failure';
import { withoutBackendIdentity } from './domain/hidden-backend-identity';
import type { RouterObserver } from './failover-router';

/** The providers with OpenAI's Realtime WebSocket: OpenAI itself and Azure OpenAI. */
const REALTIME_PROVIDERS: ReadonlySet<string> = new Set(['openai', 'azure']);

export interface RealtimeRoutingDeps {
  readonly config: () => GatewayConfig;
  readonly providers: RealtimeProvider;
  readonly health?: BackendHealth;
  /** Told of the failovers and cooldowns a refused connect starts, as the chat router tells its own. */
  readonly observer?: Partial<Pick<RouterObserver, 'cooledDown' | 'fallback'>>;
}

/**
 * Picks the backend of a Realtime session: the model's chain (a tier's models only) cut
 * to OpenAI and Azure OpenAI backends with a key, healthy ones first, each tried in turn
 * while the route's `failover.on` lists the trigger of its refusal. Once open, the
 * session runs on that backend: its events name the client's model (`session.model`),
 * and the client's `session.update` the backend's.
 */
export class RealtimeRouting implements RealtimeRouter {
  /**
   * Sessions take the backends of equal priority in turn by weight, as chat calls do (a
   * turn of their own; a weight-0 standby last). `loadBalancing`'s strategies measure
   * calls, not sessions, and do not apply.
   */
  private readonly balancer = new BackendBalancer();

  constructor(private readonly deps: RealtimeRoutingDeps) {}

  async connectRealtime(
    request: GatewayRequest,
    listener: RealtimeListener,
    signal: AbortSignal,
  ): Promise<RealtimeConnection> {
    const chain = planBackendChain(
      this.deps.config(),
      request.requestedModel,
      request.allowedModels,
    );
    const links = chain.links.filter(
      (link): link is ChainLink =>
        !isUnresolved(link) &&
        REALTIME_PROVIDERS.has(canonicalProvider(link.backend.provider) ?? ''),
    );
    if (links.length === 0) {
      throw new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        `no backend of "${request.requestedModel}" serves realtime sessions: route it to an ` +
          'OpenAI or Azure OpenAI backend of a realtime model',
        { param: 'model' },
      );
    }
    const health = this.deps.health;
    const usable = this.balancer.order(
      links.filter((link) => isAuthenticated(link.backend)),
      undefined,
      chain.route.name,
      health && ((backend) => health.isOutOfRotation(backend)),
    );
    if (usable.length === 0) {
      throw new DataPlaneError(
        DataPlaneErrorCode.NoBackendAvailable,
        `no realtime backend for "${request.requestedModel}" has credentials configured`,
      );
    }
    const ordered = health
      ? [
          ...usable.filter((link) => !health.isOutOfRotation(link.backend.name)),
          ...usable.filter((link) => health.isOutOfRotation(link.backend.name)),
        ]
      : usable;
    let lastError: unknown;
    // The backend that refused last and why, once the next is tried: that is a failover.
    let refused: { readonly link: ChainLink; readonly trigger: FailoverTrigger } | undefined;
    for (const link of ordered) {
      if (refused) this.deps.observer?.fallback?.(request, refused.link, link, refused.trigger);
      const target = realtimeTarget(link, chain.route.name);
      const renamed: RealtimeListener = {
        frame: (frame) => listener.frame(renameRealtimeModel(frame, request.requestedModel)),
        closed: (code, reason) => listener.closed(code, reason),
      };
      const calledAt = health?.time();
      try {
        const connection = await this.deps.providers.connectRealtime({
          request,
          target,
          listener: renamed,
          signal,
        });
        health?.recordSuccess(link.backend.name, calledAt);
        return {
          servedBy: connection.servedBy,
          send: (frame) => connection.send(renameRealtimeModel(frame, target.model)),
          close: (code, reason) => connection.close(code, reason),
        };
      } catch (thrown) {
        if (signal.aborted) throw thrown;
        // What the client learns of the refusal: not the deployment, account or host.
        const error = withoutBackendIdentity(modelCallFailure(thrown, link.backend), {
          request,
          target,
        });
        lastError = error;
        const trigger = error instanceof DataPlaneError ? error.trigger : undefined;
        if (trigger === undefined || !chain.route.failover.on.includes(trigger)) throw error;
        const retryAfterMs = error instanceof DataPlaneError ? error.retryAfterMs : undefined;
        const cooldown = health?.recordFailure(link.backend.name, retryAfterMs, trigger);
        if (cooldown) this.deps.observer?.cooledDown?.(link.backend, cooldown);
        refused = { link, trigger };
      }
    }
    throw lastError;
  }
}

function realtimeTarget(link: ChainLink, routeName: string): UpstreamTarget {
  const { backend } = link;
  return {
    ...upstreamTargetOf(backend, link.upstreamModel, routeName),
    provider: canonicalProvider(backend.provider) ?? backend.provider,
  };
}
