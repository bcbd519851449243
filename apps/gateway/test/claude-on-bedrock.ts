import type { FakeAwsCredentials, FakeBedrockUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

/**
 * The all-in-one gateway with one Bedrock backend, the fake Bedrock Runtime `upstream`,
 * serving Claude Sonnet 4.5 through its global inference profile as `claude`. The gateway
 * signs with `credentials` (the keys `upstream` verifies), found in its environment.
 */
export function startOnClaudeBedrockBackend(
  upstream: FakeBedrockUpstream,
  credentials: FakeAwsCredentials,
  routeName: string,
): Promise<AppProcess> {
  return startGatewayWithConfig(
    `kind: AIGatewayRoute
metadata: {name: ${routeName}}
spec:
  backends:
  - {name: claude-on-bedrock, provider: bedrock, baseUrl: "${upstream.baseUrl}", model: global.anthropic.claude-sonnet-4-5-20250929-v1:0, modelNameOverride: claude}
`,
    {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: '',
      AWS_REGION: 'us-east-1',
    },
  );
}
