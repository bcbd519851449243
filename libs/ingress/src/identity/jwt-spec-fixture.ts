// What the identity specs share: the SecurityPolicy their JWT routes use, quick key-set
// timing, and how they read a refusal.
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig, type RouteConfig } from '@aigw/config';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { IdentityRejection, type RejectionReason } from './identity.errors';
import type { KeySetTiming } from './remote-key-set';

/**
 * SecurityPolicy `agent-auth` on `routes`: one provider of that name for `issuer`, audience
 * `ai-gateway`, keys at `jwksUri`, claims sub → x-user-id and plan → x-user-plan.
 */
export function agentAuthPolicy(issuer: string, jwksUri: string, routes: readonly string[]) {
  const targets = routes.map((name) => `{kind: AIGatewayRoute, name: ${name}}`).join(', ');
  return `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: agent-auth}
spec:
  targetRefs: [${targets}]
  jwt:
    providers:
    - name: agent-auth
      issuer: ${issuer}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "${jwksUri}"}
      claimToHeaders:
      - {claim: sub, header: x-user-id}
      - {claim: plan, header: x-user-plan}
`;
}

/** The configuration `yaml` holds; throws its errors when it does not load. */
export function loadConfig(yaml: string): GatewayConfig {
  const result = parseGatewayConfig(yaml, { env: {} });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

export function routeNamed(config: GatewayConfig, name: string): RouteConfig {
  const route = config.routes.find((r) => r.name === name);
  assert.ok(route);
  return route;
}

/** Key sets fetched at once, never held back by a cooldown. */
export const FAST_KEY_SETS: KeySetTiming = {
  cooldownMs: 0,
  minAttemptIntervalMs: 0,
  refreshIntervalMs: 3_600_000,
  fetchTimeoutMs: 2_000,
};

/** The DataPlaneError `work` throws or rejects with; fails when it answers. */
export async function rejection(work: () => unknown): Promise<DataPlaneError> {
  try {
    await work();
  } catch (error) {
    assert.ok(error instanceof DataPlaneError, `expected a DataPlaneError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

export function reasonOf(error: DataPlaneError): RejectionReason {
  assert.ok(error.cause instanceof IdentityRejection);
  return error.cause.reason;
}
