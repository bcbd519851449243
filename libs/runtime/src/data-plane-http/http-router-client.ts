import {
  DataPlaneError,
  DataPlaneErrorCode,
  encodeRouteRequest,
  lazyChunk,
  WIRE_PATHS,
  type GatewayAnswer,
  type GatewayRequest,
  type RouterPort,
} from '@aigw/contracts/data-plane';
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
   * Whether the ingress's own config serves `model`. With it, the router's "model not
   * served" for such a model is the services being on different configs for a moment.
   */
  readonly serves?: (model: string) => boolean;
  /** Told each time the router did not serve a model this ingress serves. */
  readonly onConfigSkew?: (model: string) => void;
}

/**
 * The Retry-After of a model the router does not serve yet: a reload reaches each service
 * within about a second once its file changed (a ConfigMap's own delay aside).
 */
export const CONFIG_SKEW_RETRY_AFTER_MS = 2_000;

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
    return this.options.serves
      ? answer.catch((error: unknown) => {
          throw this.skewed(error, request.requestedModel);
        })
      : answer;
  }

  /**
   * The router's "model not served" for a model the ingress serves: one of the two has
   * not reloaded the config the other runs (a model added, or the ingress behind on a
   * removal). A 503 with Retry-After, which SDKs retry, not the 404 they raise at once and
   * callers read as the model not existing. Any other error is passed on as it came.
   */
  private skewed(error: unknown, model: string): unknown {
    if (
      !(error instanceof DataPlaneError) ||
      error.code !== DataPlaneErrorCode.ModelNotFound ||
      error.param !== 'model' ||
      !this.options.serves?.(model)
    ) {
      return error;
    }
    this.options.onConfigSkew?.(model);
    return new DataPlaneError(
      DataPlaneErrorCode.NoBackendAvailable,
      `the model "${model.slice(0, 256)}" is not served yet: the gateway's services are ` +
        'loading a new configuration; retry shortly',
      { retryAfterMs: CONFIG_SKEW_RETRY_AFTER_MS, cause: error },
    );
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
