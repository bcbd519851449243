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
  return (await startAdapterThenRouter(env, dir, apps)).router;
}

/** The whole data plane of a split deployment: provider adapter, router and ingress. */
export interface SplitDataPlane {
  adapter: AppProcess;
  router: AppProcess;
  ingress: AppProcess;
}

/**
 * Starts the provider adapter, the router and the ingress as {@link startAdapterAndRouter}
 * does (each pushed onto `apps` once up), the ingress calling the router. `adapterEnv`
 * goes to the provider adapter alone (say, a backend key only it may see).
 */
export async function startSplitDataPlane(
  env: Record<string, string>,
  dir: string,
  apps: AppProcess[],
  adapterEnv: Record<string, string> = {},
): Promise<SplitDataPlane> {
  const { adapter, router } = await startAdapterThenRouter(env, dir, apps, adapterEnv);
  const ingress = await startApp('ingress', {
    ...env,
    AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
    ROUTER_URL: router.baseUrl,
  });
  apps.push(ingress);
  return { adapter, router, ingress };
}

async function startAdapterThenRouter(
  env: Record<string, string>,
  dir: string,
  apps: AppProcess[],
  adapterEnv: Record<string, string> = {},
): Promise<Omit<SplitDataPlane, 'ingress'>> {
  const adapter = await startApp('provider-adapter', {
    ...env,
    ...adapterEnv,
    AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
  });
  apps.push(adapter);
  const router = await startApp('router', {
    ...env,
    AI_GATEWAY_DATA_DIR: join(dir, 'router'),
    PROVIDER_ADAPTER_URL: adapter.baseUrl,
  });
  apps.push(router);
  return { adapter, router };
}
