// Turns a validated SecurityPolicy spec into SecurityPolicyConfig.
import { type PathSegment } from '../domain/config-issue';
import { type SecurityPolicyConfig } from '../domain/gateway-config';
import { type SecurityPolicySpecDto } from '../schema/security-policy.dto';
import { type DocumentContext, type LoadReport } from './report';

export function normalizeSecurityPolicy(
  name: string,
  spec: SecurityPolicySpecDto,
  doc: DocumentContext,
  report: LoadReport,
): SecurityPolicyConfig {
  const providers = spec.jwt?.providers ?? [];
  const seen = new Set<string>();
  providers.forEach((provider, index) => {
    const path: PathSegment[] = ['spec', 'jwt', 'providers', index, 'name'];
    if (seen.has(provider.name))
      report.error(doc, path, `duplicate JWT provider "${provider.name}"`);
    seen.add(provider.name);
    // Without audiences `aud` is not checked, so a token the same issuer minted for any
    // other service is accepted here too: allowed, but an operator should know.
    if ((provider.audiences ?? []).length === 0) {
      report.warn(
        doc,
        ['spec', 'jwt', 'providers', index],
        `JWT provider "${provider.name}" has no audiences: it accepts tokens its issuer made for any audience; list the aud values meant for this gateway in audiences`,
      );
    }
    if (fetchedInTheClear(provider.remoteJWKS.uri)) {
      report.warn(
        doc,
        ['spec', 'jwt', 'providers', index, 'remoteJWKS', 'uri'],
        `JWT provider "${provider.name}" fetches its signing keys over plain http: anyone on the network path can replace them and sign tokens this gateway accepts as any user and tier; use https`,
      );
    }
  });
  if (providers.length === 0) {
    report.warn(doc, ['spec'], 'no jwt.providers: this policy authenticates nothing');
  }
  return {
    name,
    targetRefs: (spec.targetRefs ?? []).map((ref) => ({ kind: ref.kind, name: ref.name })),
    jwtProviders: providers.map((provider) => ({
      name: provider.name,
      issuer: provider.issuer,
      jwksUri: provider.remoteJWKS.uri,
      audiences: provider.audiences ?? [],
      claimToHeaders: (provider.claimToHeaders ?? []).map((m) => ({
        claim: m.claim,
        header: m.header.toLowerCase(),
      })),
    })),
  };
}

/** Plain http to another host: the keys cross a network where they can be swapped. */
function fetchedInTheClear(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false; // the schema reports a URI that is not one
  }
  if (url.protocol !== 'http:') return false;
  const host = url.hostname;
  const loopback =
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127(?:\.\d{1,3}){3}$/.test(host);
  return !loopback;
}
