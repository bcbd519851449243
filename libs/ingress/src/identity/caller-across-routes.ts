import type { RouteConfig } from '@aigw/config';
import type { CallerIdentity } from './caller-identifier';

/** How one route identifies the caller: who it is there, or the refusal a call there gets. */
export type RouteLook =
  | { readonly route: RouteConfig; readonly identity: CallerIdentity }
  | { readonly route: RouteConfig; readonly refusal: unknown };

/**
 * Each route's look at the caller, in the order given, for requests that no one route
 * answers for (the model list, conversations). Tokens are verified side by side.
 */
export function lookAcrossRoutes(
  routes: readonly RouteConfig[],
  identify: (route: RouteConfig) => CallerIdentity | Promise<CallerIdentity>,
): Promise<RouteLook[]> {
  return Promise.all(
    routes.map(async (route): Promise<RouteLook> => {
      try {
        return { route, identity: await identify(route) };
      } catch (refusal) {
        return { route, refusal };
      }
    }),
  );
}

/** Whether a tier's allowedModels (empty: any model) let its callers use `model`. */
export function tierAllows(allowedModels: readonly string[], model: string): boolean {
  return allowedModels.length === 0 || allowedModels.includes(model);
}
