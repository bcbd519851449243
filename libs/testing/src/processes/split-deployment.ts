import { join } from 'node:path';
import { startApp, type AppProcess } from './gateway-process';

/**
 * The provider adapter and the router of a split deployment, each with its own data dir
 * under `dir`. Each is pushed onto `apps` as soon as it is up, so the spec's teardown
 * stops it even when a later start fails. Returns the router, for the ingress to call.
 */
export async function startAdapterAndRouter(
  env: Record<string, string>,
  dir: string,
  apps: AppProcess[],
): Promise<AppProcess> {
  const adapter = await startApp('provider-adapter', {
    ...env,
    AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
  });
  apps.push(adapter);
  const router = await startApp('router', {
    ...env,
    AI_GATEWAY_DATA_DIR: join(dir, 'router'),
    PROVIDER_ADAPTER_URL: adapter.baseUrl,
  });
  apps.push(router);
  return router;
}
