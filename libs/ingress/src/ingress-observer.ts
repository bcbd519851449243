import type {
  DataPlaneError,
  GatewayRequest,
  ServedBy,
  TokenUsage,
} from '@aigw/contracts/data-plane';

/** What the edge reports about each request: metrics and events hang off this. */
export interface IngressObserver {
  /** `startedAt` is a `performance.now()` reading taken when the request arrived. */
  completed(
    request: GatewayRequest,
    servedBy: ServedBy,
    usage: TokenUsage,
    startedAt: number,
  ): void;
  /** `request` is undefined when the body was rejected before it became one. */
  failed(request: GatewayRequest | undefined, error: DataPlaneError, startedAt: number): void;
}

export const INGRESS_OBSERVER = Symbol('INGRESS_OBSERVER');

export const NOOP_INGRESS_OBSERVER: IngressObserver = {
  completed: () => undefined,
  failed: () => undefined,
};
