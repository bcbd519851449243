// Decides what a YAML document is: a route, a security policy, a bare tier list, a
// kind-less route spec, a Kubernetes resource that sits beside the gateway's config but is
// not for the gateway (skipped, with a note), or something that does not belong here.
import { ROUTE_API_VERSIONS, ROUTE_SPEC_KEYS } from '../schema/route.dto';

export type DocumentKind =
  | { readonly type: 'route' }
  | { readonly type: 'securityPolicy' }
  | { readonly type: 'userTiers' }
  | { readonly type: 'implicitRoute' }
  /** Not gateway configuration, but a known resource that belongs beside it. */
  | { readonly type: 'skipped'; readonly note: string }
  | { readonly type: 'rejected'; readonly field: string; readonly message: string };

const KNOWN_KINDS = 'AIGatewayRoute or SecurityPolicy';

/**
 * Resources of other API groups that manifests keep beside the gateway's config (one file
 * applied with kubectl): the gateway skips them. Only the kinds listed, in their own group:
 * a misspelt kind, or one of these in another group, is still an error.
 */
const NEIGHBOUR_KINDS: readonly {
  readonly group: string;
  readonly kinds: readonly string[];
  readonly why: string;
}[] = [
  {
    group: 'monitoring.coreos.com',
    kinds: ['ServiceMonitor', 'PodMonitor', 'Probe', 'PrometheusRule', 'ScrapeConfig'],
    why: 'a Prometheus Operator resource for the cluster, not gateway configuration (the gateway serves /stats/prometheus on its admin port)',
  },
];

/** The API group of `apiVersion` (`monitoring.coreos.com/v1` -> `monitoring.coreos.com`). */
function groupOf(apiVersion: unknown): string | undefined {
  if (typeof apiVersion !== 'string') return undefined;
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

function neighbourKind(kind: string, apiVersion: unknown): DocumentKind | undefined {
  const group = groupOf(apiVersion);
  const known = NEIGHBOUR_KINDS.find((entry) => entry.kinds.includes(kind));
  const ofGroup = NEIGHBOUR_KINDS.find((entry) => entry.group === group);
  if (known !== undefined && known.group === group) {
    return { type: 'skipped', note: `skipped: ${kind} is ${known.why}` };
  }
  if (known !== undefined) {
    const shown = typeof apiVersion === 'string' ? `"${apiVersion.slice(0, 60)}"` : 'none';
    return {
      type: 'rejected',
      field: 'apiVersion',
      message: `${kind} belongs to API group ${known.group} (apiVersion ${known.group}/v1), got ${shown}`,
    };
  }
  if (ofGroup !== undefined) {
    return {
      type: 'rejected',
      field: 'kind',
      message: `unknown kind "${kind.slice(0, 60)}" in ${ofGroup.group}: expected ${ofGroup.kinds.join(', ')}`,
    };
  }
  return undefined;
}

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
    const ownGroup = ROUTE_API_VERSIONS.some((v) => groupOf(v) === groupOf(apiVersion));
    const neighbour = ownGroup ? undefined : neighbourKind(kind, apiVersion);
    if (neighbour !== undefined) return neighbour;
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
