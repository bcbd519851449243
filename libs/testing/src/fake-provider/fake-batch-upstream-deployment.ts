import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type AppProcess } from '../processes';
import { FAKE_BATCH_MODEL, type FakeBatchBackend } from './fake-batch-upstream';

/** The model callers name: the route serves the fake's FAKE_BATCH_MODEL under it. */
export const FAKE_BATCH_ROUTE_MODEL = 'gpt-batch';

/** The all-in-one gateway, or ingress, router and provider-adapter as three processes. */
export type DeploymentShape = 'all-in-one' | 'split';

/** A running deployment in front of one fake batch backend. */
export interface FakeBatchDeployment {
  /** The process callers talk to: the gateway, or the ingress. */
  readonly edge: AppProcess;
  /** The apps it runs (apps/<name>), the edge first. */
  readonly apps: readonly string[];
  /** The data directory (AI_GATEWAY_DATA_DIR) of one of its apps. */
  dataDirOf(app: string): string;
  stop(): Promise<void>;
}

/**
 * Starts the gateway in `shape` on one route: `backend` as an OpenAI backend serving
 * FAKE_BATCH_ROUTE_MODEL, callers named by x-user-id, its key held only by the process
 * that calls it (as in the Kubernetes manifests). `env` goes to every process.
 */
export async function startOnFakeBatchBackend(
  backend: FakeBatchBackend,
  shape: DeploymentShape,
  env: Record<string, string>,
): Promise<FakeBatchDeployment> {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-fake-batch-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `kind: AIGatewayRoute
metadata: {name: batches}
spec:
  backends:
  - {name: openai-batch, provider: openai, baseUrl: "${backend.baseUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: ${FAKE_BATCH_ROUTE_MODEL}, auth: {apiKeyRef: {name: openai-key}}}
  userIdentification: {header: x-user-id}
`,
  );
  const backendKey = { AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend' };
  const dataDirOf = (app: string) => join(dir, app);
  const start = (app: string, own: Record<string, string>) =>
    startApp(app, {
      ...env,
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: dataDirOf(app),
      ...own,
    });
  if (shape === 'all-in-one') {
    const gateway = await start('gateway', backendKey);
    return {
      edge: gateway,
      apps: ['gateway'],
      dataDirOf,
      stop: async () => void (await gateway.stop()),
    };
  }
  const started: AppProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((app) => app.stop()));
  };
  try {
    const adapter = await start('provider-adapter', backendKey);
    started.push(adapter);
    const router = await start('router', { PROVIDER_ADAPTER_URL: adapter.baseUrl });
    started.push(router);
    const ingress = await start('ingress', { ROUTER_URL: router.baseUrl });
    started.push(ingress);
    return { edge: ingress, apps: ['ingress', 'router', 'provider-adapter'], dataDirOf, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
