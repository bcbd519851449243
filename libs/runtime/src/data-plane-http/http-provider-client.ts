import {
  DataPlaneErrorCode,
  encodeInvokeRequest,
  FIRST_EVENT_MS_HEADER,
  lazyChunk,
  WIRE_PATHS,
  type GatewayAnswer,
  type ProviderCall,
  type ProviderPort,
} from '@aigw/contracts/data-plane';
import type { InternalToken } from './internal-auth';
import { PROVIDER_HOP_GRACE_MS } from './realtime-wire';
import { WireClient, type PeerPoolState } from './wire-client';

export interface HttpProviderClientOptions {
  /** PROVIDER_ADAPTER_URL. */
  readonly url: URL;
  readonly connections?: number;
  /** AI_GATEWAY_INTERNAL_TOKEN, sent on every call when set. */
  readonly token?: InternalToken;
}

/**
 * The provider adapters as the router sees them when they run as their own service.
 * Only the backend's name and model cross the hop; the adapter injects the credential
 * from its own configuration. An unreachable adapter is an upstream error, so the router
 * fails over (and reports a clean 502) rather than hanging.
 */
export class HttpProviderClient implements ProviderPort {
  private readonly client: WireClient;

  constructor(options: HttpProviderClientOptions) {
    this.client = new WireClient({
      url: options.url,
      peer: 'provider-adapter',
      unreachableCode: DataPlaneErrorCode.UpstreamError,
      connections: options.connections,
      token: options.token,
    });
  }

  invoke(call: ProviderCall): Promise<GatewayAnswer> {
    const { request, target } = call;
    const requestedModel = request.requestedModel;
    return this.client.call({
      path: WIRE_PATHS.invoke,
      body: encodeInvokeRequest(request, {
        backendName: target.backendName,
        routeName: target.routeName,
        provider: target.provider,
        model: target.model,
      }),
      signal: call.signal,
      stream: request.stream,
      // Past the backend's own timeout, so the adapter reports it rather than this hop.
      timeoutMs: target.requestTimeoutMs + PROVIDER_HOP_GRACE_MS,
      headers: firstEventHeaders(call),
      // The adapter wrote the requested name into each chunk: relayed without parsing.
      chunk: (line) => lazyChunk(line, requestedModel),
    });
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

/**
 * A stream's first-event deadline, for the adapter to time its backend against (and report
 * the silence as the backend's timeout). The router waits PROVIDER_HOP_GRACE_MS more.
 */
function firstEventHeaders(call: ProviderCall): Record<string, string> | undefined {
  const ms = call.firstEventTimeoutMs;
  if (ms === undefined || !call.request.stream) return undefined;
  return { [FIRST_EVENT_MS_HEADER]: String(Math.ceil(ms)) };
}
