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
