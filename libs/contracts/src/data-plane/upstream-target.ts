import type { BackendConfig } from '@aigw/config';
import type { UpstreamTarget } from './data-plane.types';

/**
 * What a call to a backend's API needs of it, whatever the call (the Files and Batch relay
 * names no model): which route's backend it is, where it is, its own credential, how long
 * it is given.
 */
export type BackendCallTarget = Pick<
  UpstreamTarget,
  'backendName' | 'routeName' | 'provider' | 'baseUrl' | 'credential' | 'requestTimeoutMs'
>;

/**
 * A backend's target for a call running `model`: its URL and placement, its own credential
 * (the client's is never sent; absent where the key is held by another service or none is
 * needed) and its timeouts.
 */
export function upstreamTargetOf(
  backend: BackendConfig,
  model: string,
  routeName?: string,
): UpstreamTarget {
  const auth = backend.auth;
  return {
    backendName: backend.name,
    routeName,
    provider: backend.provider,
    model,
    baseUrl: backend.baseUrl,
    vertex: backend.vertex,
    credential:
      auth.kind === 'apiKey' && auth.apiKey
        ? { headerName: auth.headerName, headerPrefix: auth.headerPrefix, apiKey: auth.apiKey }
        : undefined,
    requestTimeoutMs: backend.requestTimeoutMs,
    firstByteTimeoutMs: backend.firstByteTimeoutMs,
  };
}
