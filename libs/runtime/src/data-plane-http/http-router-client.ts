import {
  DataPlaneErrorCode,
  encodeRouteRequest,
  lazyChunk,
  WIRE_PATHS,
  type GatewayAnswer,
  type GatewayRequest,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { routerConfigSkew, type ConfigSkewCheck } from './config-skew';
import type { InternalToken } from './internal-auth';
import { WireClient, type PeerPoolState } from './wire-client';

export interface HttpRouterClientOptions {
  /** ROUTER_URL. */
  readonly url: URL;
  /** The model names clients may ask for, from the ingress's own copy of the config. */
  readonly listModels: () => readonly string[];
  /**
   * Longest wait for the router's answer to start, and between two stream reads. Generous:
   * the router's own failover loop may try several backends with their own timeouts.
   */
  readonly timeoutMs?: number;
  /**
   * The longest the router may work on a call under the config in force (its failover and
   * backends' timeouts): the wait is never cut shorter than that.
   */
  readonly routerBoundMs?: () => number;
  readonly connections?: number;
  /** AI_GATEWAY_INTERNAL_TOKEN, sent on every call when set. */
  readonly token?: InternalToken;
  /**
   * The ingress's own view of the config: with it, the router's "model not served" for a
   * model the ingress serves is the services being on different configs for a moment.
   */
  readonly configSkew?: ConfigSkewCheck;
}

/** The router as the ingress sees it when the router runs as its own service. */
export class HttpRouterClient implements RouterPort {
  private readonly client: WireClient;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpRouterClientOptions) {
    this.client = new WireClient({
      url: options.url,
      peer: 'router',
      // Our own router being down is "service unavailable" to the client, who may retry.
      unreachableCode: DataPlaneErrorCode.NoBackendAvailable,
      connections: options.connections,
      token: options.token,
      // The edge reads every answer's body (guards, dialects, telemetry).
      parseAnswerBodies: true,
    });
    this.timeoutMs = options.timeoutMs ?? 300_000;
  }

  route(request: GatewayRequest, signal: AbortSignal): Promise<GatewayAnswer> {
    const answer = this.client.call({
      path: WIRE_PATHS.route,
      body: encodeRouteRequest(request),
      signal,
      stream: request.stream,
      timeoutMs: Math.max(this.timeoutMs, this.options.routerBoundMs?.() ?? 0),
      // Parsed only if read: the OpenAI edge sends an untouched chunk's JSON text as it came.
      chunk: (line) => lazyChunk(line, request.requestedModel),
    });
    const skew = this.options.configSkew;
    return skew
      ? answer.catch((error: unknown) => {
          throw routerConfigSkew(error, request.requestedModel, skew);
        })
      : answer;
  }

  listModels(): readonly string[] {
    return this.options.listModels();
  }

  probe(): Promise<boolean> {
    return this.client.probe();
  }

  /** The pool of sockets to the peer, for the peer pool gauges. */
  poolState(): PeerPoolState {
    return this.client.poolState();
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
