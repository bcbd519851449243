import type { BudgetStore } from '@aigw/budget-core';
import type { BudgetSettings, ServiceRuntime } from '@aigw/runtime';
import { budgetAdminRoutes } from './admin/budget-admin-routes';
import { webhookAlertNotifier } from './alert-notifier';
import { BudgetSettler } from './budget-settler';

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
  const alerts = webhookAlertNotifier(settings.alertWebhookUrl, (reason) =>
    logger.warn('alert webhook failed', { reason }),
  );
  const settler = new BudgetSettler(config, store, events, metrics, alerts, logger, {
    remainingIntervalMs: settings.stateIntervalMs,
  });
  // Before the event log closes, so the topic ends on each limit's latest state.
  runtime.onClose(() => settler.close());
  await events.subscribe(settler);
  // Operators give budget back through the settler too: resets and credits are events.
  for (const route of budgetAdminRoutes(events, config)) runtime.addAdminRoute(route);
}
