import type { JWTPayload } from 'jose';

/**
 * The value of the claim `name` names in a verified token. A claim of that very name comes
 * first (Auth0's namespaced claims are URLs, dots included: "https://example.com/plan");
 * else a dotted name is a path through nested objects, as Envoy Gateway's claimToHeaders reads
 * it ("realm_access.roles", Keycloak's roles; "org.id"). Only a plain object's own fields are
 * walked: never into a list, a string's length or an inherited property.
 */
export function claimAt(claims: JWTPayload, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  if (!name.includes('.')) return undefined;
  let value: unknown = claims;
  for (const field of name.split('.')) {
    if (!isPlainObject(value) || !Object.hasOwn(value, field)) return undefined;
    value = value[field];
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
