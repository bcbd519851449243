import type { SignatureV4, SignatureV4Init } from '@smithy/signature-v4';

/** Where AWS credentials come from: by default the SDK's chain (env, profile, SSO, IAM roles). */
export type AwsCredentialsSource = SignatureV4Init['credentials'];

// bedrock-runtime[-fips].REGION.amazonaws.com, and VPC endpoints that embed the same name.
const REGIONAL_HOST = /bedrock-runtime(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d)\./;

/** The region of a call: from a regional baseUrl, else AWS_REGION / AWS_DEFAULT_REGION. */
export function bedrockRegion(
  baseUrl: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const fromUrl = baseUrl ? REGIONAL_HOST.exec(new URL(baseUrl).hostname)?.[1] : undefined;
  return fromUrl ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
}

/**
 * Signs Bedrock requests with SigV4 through the AWS SDK's signer. The credential chain is
 * built once and memoizes (and refreshes) what it resolved, so IAM role credentials are
 * not fetched per request. The SDK modules (~17 MB, ~60 ms) load on the first Bedrock
 * call, so gateways without Bedrock backends never pay for them.
 */
export class BedrockSigner {
  private credentials: AwsCredentialsSource | undefined;
  private readonly signers = new Map<string, SignatureV4>();

  constructor(private readonly credentialsSource?: AwsCredentialsSource) {}

  private async signerFor(region: string): Promise<SignatureV4> {
    let signer = this.signers.get(region);
    if (!signer) {
      const [{ SignatureV4 }, { Sha256 }] = await Promise.all([
        import('@smithy/signature-v4'),
        import('@aws-crypto/sha256-js'),
      ]);
      if (!this.credentials) {
        const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
        this.credentials = this.credentialsSource ?? defaultProvider();
      }
      signer = new SignatureV4({
        service: 'bedrock',
        region,
        credentials: this.credentials,
        sha256: Sha256,
      });
      this.signers.set(region, signer);
    }
    return signer;
  }

  /** The request's headers plus the signature (Authorization, X-Amz-Date, token). */
  async sign(
    url: URL,
    region: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<Record<string, string>> {
    const { HttpRequest } = await import('@smithy/core/protocols');
    const request = new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: url.pathname,
      headers: { ...headers, host: url.host },
      body,
    });
    const signed = await (await this.signerFor(region)).sign(request);
    return signed.headers;
  }
}
