import { Module, type DynamicModule } from '@nestjs/common';
import type { GatewayConfig } from '@aigw/config';
import type { RouterPort } from '@aigw/contracts/data-plane';
import { BudgetAdmission } from './admission/budget-admission';
import { MessagesController } from './anthropic/messages.controller';
import { ResponseReuse } from './cache/response-reuse';
import { FilesAndBatches } from './batches/files-and-batches';
import { EdgeRoutes } from './edge-routes';
import { OpenAiController } from './http/openai.controller';
import { IngressPipeline } from './ingress-pipeline';
import { identityOptionsFromEnv } from './identity';
import { ResponseState } from './responses/state/response-state';
import { REALTIME_EDGE, type RealtimeEdgeOptions } from './realtime/realtime-edge';
import {
  bothObservers,
  INGRESS_OBSERVER,
  NOOP_INGRESS_OBSERVER,
  type IngressObserver,
} from './ingress-observer';
import type { EdgeTracing } from './tracing/edge-tracing';

export interface IngressModuleOptions {
  /** The configuration in force; read per request so reloads apply at once. */
  readonly config: () => GatewayConfig;
  /** The router: in-process in the all-in-one gateway, an HTTP client otherwise. */
  readonly router: RouterPort;
  readonly observer?: IngressObserver;
  /** A span per model call (OpenTelemetry); without it nothing is traced. */
  readonly tracing?: EdgeTracing;
  /** Budget admission; without it every request is admitted. */
  readonly admission?: BudgetAdmission;
  /** Response cache and request deduplication; without it every request is routed. */
  readonly reuse?: ResponseReuse;
  /** The Responses API's stored responses; without it `/v1/responses` is stateless. */
  readonly responses?: ResponseState;
  /** Realtime sessions (WebSockets); without it `/v1/realtime` is answered 501. */
  readonly realtime?: RealtimeEdgeOptions;
  /**
   * OpenAI's Files and Batch APIs; without it their paths answer that this gateway does
   * not serve them.
   */
  readonly batches?: FilesAndBatches;
}

@Module({})
export class IngressModule {
  static forRoot(options: IngressModuleOptions): DynamicModule {
    const observer = options.observer ?? NOOP_INGRESS_OBSERVER;
    const pipeline = new IngressPipeline(
      options.config,
      options.router,
      {
        ...identityOptionsFromEnv(),
        onRefusal: (error) => observer.identityRefused?.(error),
        onKeyFetch: (result, jwksHost) => observer.identityKeysFetched?.(result, jwksHost),
      },
      options.tracing,
      { mediaUrlRefused: (route, part) => observer.mediaUrlRefused?.(route, part) },
    );
    return {
      module: IngressModule,
      // The model calls are plain Fastify routes (EdgeRoutes); the controllers serve the rest.
      controllers: [OpenAiController, MessagesController],
      providers: [
        EdgeRoutes,
        { provide: IngressPipeline, useValue: pipeline },
        {
          provide: INGRESS_OBSERVER,
          useValue: options.tracing ? bothObservers(observer, options.tracing) : observer,
        },
        ...(options.admission ? [{ provide: BudgetAdmission, useValue: options.admission }] : []),
        ...(options.reuse ? [{ provide: ResponseReuse, useValue: options.reuse }] : []),
        ...(options.responses ? [{ provide: ResponseState, useValue: options.responses }] : []),
        ...(options.realtime ? [{ provide: REALTIME_EDGE, useValue: options.realtime }] : []),
        ...(options.batches ? [{ provide: FilesAndBatches, useValue: options.batches }] : []),
      ],
    };
  }
}
