import type { BudgetStore } from '@aigw/budget-core';
import type { BudgetSettings, ServiceRuntime } from '@aigw/runtime';
import { budgetAdminRoutes } from './admin/budget-admin-routes';
import { webhookAlertNotifier } from './alert-notifier';
import { BudgetSettler } from './budget-settler';

/** How often the settler looks for a reloaded config's per-model limits spent past them. */
const RELOAD_CHECK_MS = 1_000;

/**
 * The budget role in a process: the settler as a consumer of the usage topic, with the
 * alert webhook when one is configured, and the admin port's budget resets and credits. The budget service and the all-in-one gateway
 * both run it.
 */
export async function startBudgetSettlement(
  runtime: ServiceRuntime,
  store: BudgetStore,
  settings: Pick<BudgetSettings, 'alertWebhookUrl' | 'stateIntervalMs'>,
): Promise<void> {
  const { config, events, metrics, logger } = runtime;
  const alerts = webhookAlertNotifier(settings.alertWebhookUrl, { metrics, logger });
  const settler = new BudgetSettler(config, store, events, metrics, alerts, logger, {
    remainingIntervalMs: settings.stateIntervalMs,
  });
  // A reload that lowers a per-model limit, or a recent caller's, below its spend is announced
  // within a second, usage or not (the check is one comparison while the config stays the same).
  let failing = false;
  const reloads = setInterval(
    () =>
      void settler.checkReloadedLimits().then(
        () => (failing = false),
        (error: unknown) => {
          // Once per outage: the check runs every second, and /readyz reports the store.
          if (!failing) {
            const reason = error instanceof Error ? error.name : 'unknown';
            logger.warn('could not check reloaded limits for spend past them', { reason });
          }
          failing = true;
        },
      ),
    RELOAD_CHECK_MS,
  );
  reloads.unref();
  // Before the event log closes, so the topic ends on each limit's latest state.
  runtime.onClose(() => {
    clearInterval(reloads);
    settler.close();
  });
  await events.subscribe(settler);
  // Operators give budget back through the settler too: resets and credits are events.
  for (const route of budgetAdminRoutes(events, config, metrics)) runtime.addAdminRoute(route);
}
