// A route whose SecurityPolicy trusts two JWT providers, corp and partner, each setting
// x-user-id from its tokens' `sub`: their `alice`s name one id but are two users
// (jwt:corp:sub:alice, jwt:partner:sub:alice). Shared by the specs that keep them apart.
import OpenAI from 'openai';
import { LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';

export class TwoJwtProviders {
  private readonly jwks = new LocalJwksServer();
  corp!: TestIssuer;
  partner!: TestIssuer;

  /** `suite` names the issuers (https://auth.corp.<suite>.test), apart from other specs'. */
  constructor(private readonly suite: string) {}

  async start(): Promise<void> {
    await this.jwks.start();
    this.corp = await TestIssuer.create(`https://auth.corp.${this.suite}.test`, 'ai-gateway');
    this.partner = await TestIssuer.create(`https://auth.partner.${this.suite}.test`, 'ai-gateway');
    this.jwks.publish(this.corp.publicJwk, this.partner.publicJwk);
  }

  stop(): Promise<void> {
    return this.jwks.stop();
  }

  /** The SecurityPolicy document trusting both providers on the AIGatewayRoute `route`. */
  securityPolicy(route: string): string {
    return `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: two-issuers}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: ${route}}]
  jwt:
    providers:
${this.provider('corp', this.corp)}
${this.provider('partner', this.partner)}
`;
  }

  /** An OpenAI client for the gateway as `issuer`'s `sub`, calling `model` by default. */
  async client(
    issuer: TestIssuer,
    sub: string,
    gatewayUrl: string,
    model: string,
  ): Promise<OpenAI> {
    return new OpenAI({
      baseURL: `${gatewayUrl}/v1`,
      // Sent as `Authorization: Bearer <token>`.
      apiKey: await issuer.sign({ sub }),
      maxRetries: 0,
      defaultHeaders: { 'x-ai-gateway-model': model },
    });
  }

  private provider(name: string, issuer: TestIssuer): string {
    return `    - name: ${name}
      issuer: ${issuer.issuer}
      audiences: [ai-gateway]
      remoteJWKS: {uri: "${this.jwks.url}"}
      claimToHeaders:
      - {claim: sub, header: x-user-id}`;
  }
}
