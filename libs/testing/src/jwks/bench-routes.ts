/**
 * The configuration the identity benchmarks run on: a route `secured` whose callers are
 * identified by a JWT from `issuer` (keys at `jwksUri`, audience `gw`; `sub` as the user,
 * `plan` picking the tier) and a route `open` identified by `x-user-id`. YAML text, for the
 * caller to parse as it needs.
 */
export function jwtBenchRoutesYaml(issuer: string, jwksUri: string): string {
  return `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: secured}
spec:
  backends: [{name: s, provider: local, model: m}]
  userTiers:
  - {name: pro, selector: {header: x-user-plan, value: pro}, tokenBudget: {daily: 10}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends: [{name: o, provider: local, model: o}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: p}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: secured}]
  jwt:
    providers:
    - name: auth
      issuer: ${issuer}
      audiences: [gw]
      remoteJWKS: {uri: "${jwksUri}"}
      claimToHeaders: [{claim: sub, header: x-user-id}, {claim: plan, header: x-user-plan}]
`;
}
