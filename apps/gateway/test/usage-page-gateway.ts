// The all-in-one gateway the usage-page browser specs look at: one local gpt-4o-mini route
// naming users by x-user-id, with each spec's own route lines and environment.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { CHROMIUM } from './chromium-page';

export interface UsagePageGateway {
  readonly gateway: AppProcess;
  /** Stops the gateway and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Checks the browser is there, then starts the gateway. `routeLines`: YAML lines under the
 * route's `spec:` (two-space indented), after its backend and user identification.
 */
export async function startUsagePageGateway(
  name: string,
  routeLines: string,
  env: Record<string, string> = {},
): Promise<UsagePageGateway> {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: run scripts/browser/ensure-chromium.sh (Debian's chromium)`,
  );
  const dir = mkdtempSync(join(tmpdir(), `aigw-usage-page-${name}-`));
  writeFileSync(
    join(dir, 'config.yaml'),
    `kind: AIGatewayRoute
metadata: {name: usage}
spec:
  backends:
  - {name: mini, provider: local, model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
${routeLines}`,
  );
  const gateway = await startApp('gateway', {
    AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
    AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    ...env,
  });
  return {
    gateway,
    stop: async () => {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One chat call by `user`, asserted answered. */
export async function chatAs(gateway: AppProcess, user: string): Promise<void> {
  const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': user },
    body: JSON.stringify({
      model: 'gpt-4o-mini',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hello' }],
    }),
  });
  assert.equal(response.status, 200, await response.text());
}
