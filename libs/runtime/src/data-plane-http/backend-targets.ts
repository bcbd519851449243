import { backendForCall, type BackendConfig, type GatewayConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  upstreamTargetOf,
  type UpstreamTarget,
  type WireTarget,
} from '@aigw/contracts/data-plane';
import { CONFIG_SKEW_RETRY_AFTER_MS } from './config-skew';

/**
 * How long the router is asked to leave a backend whose key this service lacks: a key
 * appears only with a new secret and a config reload, so a minute costs nothing, and
 * without it every request would pay a hop here and a failover.
 */
export const MISSING_KEY_RETRY_AFTER_MS = 60_000;

/**
 * The provider-adapter's half of "no key crosses the internal hop": the router names the
 * backend, and where it lives and how to authenticate come from this service's config.
 * A backend this config does not know (configs out of step during a rollout), or whose key
 * is missing here, is an upstream error, so the router fails over instead of failing the
 * request. `waitingForKeys`: a file edit this service refused only for keys it lacks; the
 * router, which reads no keys, took it, so its new backends are refused as missing their key.
 */
export function upstreamTargetFor(
  config: GatewayConfig,
  wire: WireTarget,
  waitingForKeys?: GatewayConfig,
): UpstreamTarget {
  // One in force of another provider is not the backend named: the router may have taken
  // an edit, waiting here for its key, that moved the backend to this provider.
  const inForce = backendOf(config, wire);
  const backend =
    inForce?.provider === wire.provider ? inForce : waitingBackendOf(waitingForKeys, wire);
  if (!backend) {
    // The router's config and this one differ for a moment (each service reloads on its
    // own): a short Retry-After has the router leave the backend for that moment and fail
    // over, instead of counting failures to a 30 s cooldown that outlasts the difference,
    // and tells a client with no other backend when to try again.
    throw new DataPlaneError(
      DataPlaneErrorCode.UpstreamError,
      `the provider-adapter's configuration has no ${wire.provider} backend ` +
        `"${wire.backendName}"${wire.routeName === undefined ? '' : ' in this route'}: the ` +
        "gateway's services are loading a new configuration; retry shortly",
      { retryAfterMs: CONFIG_SKEW_RETRY_AFTER_MS },
    );
  }
  const auth = backend.auth;
  if (auth.kind === 'apiKey' && auth.apiKey === undefined) {
    // The router no longer holds keys, so it cannot skip this backend itself: refuse it
    // here, before an unauthenticated call, as an upstream error the router fails over on,
    // with a Retry-After so the router cools the backend down and stops sending it here.
    throw new DataPlaneError(
      DataPlaneErrorCode.UpstreamError,
      `backend "${backend.name}" has no API key in the provider-adapter's configuration ` +
        `(secret "${auth.secretRef.name}" key "${auth.secretRef.key}" is missing` +
        `${backend === inForce ? '' : '; the config edit that adds the backend waits here for that key'})`,
      { retryAfterMs: MISSING_KEY_RETRY_AFTER_MS },
    );
  }
  return upstreamTargetOf(backend, wire.model, wire.routeName);
}

/**
 * The backend a router named: of its route when it names one (two routes may each have a
 * backend of that name, with their own URL and key; a route that lost it is no match),
 * else the first route naming it (backendForCall).
 */
function backendOf(config: GatewayConfig, wire: WireTarget): BackendConfig | undefined {
  return backendForCall(config.routes, wire.backendName, wire.routeName);
}

/**
 * The backend a router named in an edit waiting for its keys, of the provider it named,
 * when its key is one of those missing: refused as such, never called (the config in
 * force does not have it).
 */
function waitingBackendOf(
  waiting: GatewayConfig | undefined,
  wire: WireTarget,
): BackendConfig | undefined {
  const backend = waiting && backendOf(waiting, wire);
  if (backend?.provider !== wire.provider || backend.auth.kind !== 'apiKey') return undefined;
  return backend.auth.apiKey === undefined ? backend : undefined;
}
