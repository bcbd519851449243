import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeAnthropicUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const ANTHROPIC_KEY = { AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test' };

/** Claude 4.5: thinks within a budget (4.6 and later think adaptively). */
const DEFAULT_CLAUDE = 'claude-sonnet-4-5';

/** A config with one Anthropic backend at `upstream`, serving `model` as `virtualModel`. */
function writeConfig(
  dir: string,
  upstream: Pick<FakeAnthropicUpstream, 'baseUrl'>,
  virtualModel: string,
  model: string,
): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `kind: AIGatewayRoute
metadata: {name: anthropic-backend}
spec:
  backends:
  - name: claude
    provider: anthropic
    baseUrl: ${upstream.baseUrl}
    model: ${model}
    modelNameOverride: ${virtualModel}
    auth:
      apiKeyRef: {name: anthropic-key}
`,
  );
  return file;
}

/** The all-in-one gateway with one Anthropic backend, the fake Messages API `upstream`. */
export function startOnAnthropicBackend(
  upstream: Pick<FakeAnthropicUpstream, 'baseUrl'>,
  virtualModel: string,
  model = DEFAULT_CLAUDE,
): Promise<AppProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-anthropic-backend-'));
  return startApp('gateway', {
    AI_GATEWAY_CONFIG: writeConfig(dir, upstream, virtualModel, model),
    AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    ...ANTHROPIC_KEY,
  });
}

/** A deployment's public address, and how to stop all of it. */
export interface Deployment {
  readonly baseUrl: string;
  stop(): Promise<unknown>;
}

/**
 * The same backend behind ingress, router and provider-adapter as three processes; only
 * the provider-adapter holds the provider key, as in the Kubernetes manifests.
 */
export async function startSplitOnAnthropicBackend(
  upstream: Pick<FakeAnthropicUpstream, 'baseUrl'>,
  virtualModel: string,
  model = DEFAULT_CLAUDE,
): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-anthropic-split-'));
  const config = writeConfig(dir, upstream, virtualModel, model);
  const started: AppProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((app) => app.stop()));
  };
  try {
    const adapter = await startApp('provider-adapter', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
      ...ANTHROPIC_KEY,
    });
    started.push(adapter);
    const router = await startApp('router', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    started.push(router);
    const ingress = await startApp('ingress', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    started.push(ingress);
    return { baseUrl: ingress.baseUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
