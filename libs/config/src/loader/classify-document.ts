// Decides what a YAML document is: a route, a security policy, a bare tier list, a
// kind-less route spec, or something that does not belong in a gateway config.
import { ROUTE_SPEC_KEYS } from '../schema/route.dto';

export type DocumentKind =
  | { readonly type: 'route' }
  | { readonly type: 'securityPolicy' }
  | { readonly type: 'userTiers' }
  | { readonly type: 'implicitRoute' }
  | { readonly type: 'rejected'; readonly field: string; readonly message: string };

const KNOWN_KINDS = 'AIGatewayRoute or SecurityPolicy';

export function classifyDocument(value: unknown): DocumentKind {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      type: 'rejected',
      field: '',
      message: `expected a mapping with a kind (${KNOWN_KINDS}) or route settings`,
    };
  }
  const doc = value as Record<string, unknown>;
  const kind = doc['kind'];
  const apiVersion = doc['apiVersion'];
  if (kind !== undefined) {
    if (typeof kind !== 'string') {
      return { type: 'rejected', field: 'kind', message: `expected ${KNOWN_KINDS}` };
    }
    if (kind === 'AIGatewayRoute') return { type: 'route' };
    if (kind === 'SecurityPolicy') return { type: 'securityPolicy' };
    if (
      kind === 'ServiceMonitor' ||
      (typeof apiVersion === 'string' && apiVersion.startsWith('monitoring.coreos.com/'))
    ) {
      return {
        type: 'rejected',
        field: 'kind',
        message:
          'ServiceMonitor is a Prometheus Operator resource, not gateway configuration; apply it to the cluster from deploy/ (the gateway serves /stats/prometheus on its admin port)',
      };
    }
    return {
      type: 'rejected',
      field: 'kind',
      message: `unknown kind "${kind.slice(0, 60)}": expected ${KNOWN_KINDS}`,
    };
  }
  const keys = Object.keys(doc);
  if (keys.some((key) => key === 'apiVersion' || key === 'metadata' || key === 'spec')) {
    return { type: 'rejected', field: 'kind', message: `is required (${KNOWN_KINDS})` };
  }
  if (keys.length === 1 && keys[0] === 'userTiers') return { type: 'userTiers' };
  const foreign = keys.filter((key) => !ROUTE_SPEC_KEYS.includes(key));
  if (foreign.length === 0) return { type: 'implicitRoute' };
  return {
    type: 'rejected',
    field: '',
    message: `has no kind, and ${foreign.map((k) => `"${k.slice(0, 40)}"`).join(', ')} ${foreign.length === 1 ? 'is not a route setting' : 'are not route settings'}: expected kind ${KNOWN_KINDS}, or route settings (${ROUTE_SPEC_KEYS.join(', ')})`,
  };
}
