import type { RouteConfig } from '@aigw/config';
import { DataPlaneError } from '@aigw/contracts/data-plane';
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

/**
 * The first look that failed for the gateway's own trouble (a provider's keys not fetched:
 * 503; anything not a DataPlaneError), not as a refusal of the caller (a 4xx). What that
 * route makes of the caller is unknown, so an answer drawn from the other routes could be
 * wrong: models left out, a 401 for a token it might take, a JWT user's conversation made
 * under an open route's key. The request gets that failure, as a call there would.
 */
export function unansweredLook(
  looks: readonly RouteLook[],
): { readonly route: RouteConfig; readonly refusal: unknown } | undefined {
  return looks.find(
    (look): look is Extract<RouteLook, { refusal: unknown }> =>
      'refusal' in look &&
      !(look.refusal instanceof DataPlaneError && look.refusal.httpStatus < 500),
  );
}

/** Whether a tier's allowedModels (empty: any model) let its callers use `model`. */
export function tierAllows(allowedModels: readonly string[], model: string): boolean {
  return allowedModels.length === 0 || allowedModels.includes(model);
}
