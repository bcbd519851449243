import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeAnthropicUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

/**
 * The all-in-one gateway with one Anthropic backend, the fake Messages API `upstream`,
 * serving claude-sonnet-4-5 as `virtualModel`.
 */
export function startOnAnthropicBackend(
  upstream: FakeAnthropicUpstream,
  virtualModel: string,
): Promise<AppProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-anthropic-backend-'));
  writeFileSync(
    join(dir, 'config.yaml'),
    `kind: AIGatewayRoute
metadata: {name: anthropic-backend}
spec:
  backends:
  - name: claude
    provider: anthropic
    baseUrl: ${upstream.baseUrl}
    model: claude-sonnet-4-5
    modelNameOverride: ${virtualModel}
    auth:
      apiKeyRef: {name: anthropic-key}
`,
  );
  return startApp('gateway', {
    AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
    AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
  });
}
