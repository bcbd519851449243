import { BudgetSettler, webhookAlertNotifier } from '@aigw/budget';
import {
  budgetSettings,
  openBudgetStore,
  ServiceRuntime,
  type Env,
  type RunningService,
} from '@aigw/runtime';

/**
 * The budget service: a consumer group on the usage topic (it scales by partitions)
 * that applies each event once to the balances in Redis and broadcasts exhaustion and
 * alerts. It serves only the admin port.
 */
export async function bootstrapBudget(env: Env): Promise<RunningService> {
  const runtime = await ServiceRuntime.open(env, { app: 'budget', missingSecrets: 'warn' });
  const { config, events, metrics, logger } = runtime;
  try {
    const settings = budgetSettings(env);
    if (!runtime.settings.redisUrl) {
      logger.warn('REDIS_URL is not set: balances live in this process only (embedded store)');
    }
    const alerts = webhookAlertNotifier(settings.alertWebhookUrl, (reason) =>
      logger.warn('alert webhook failed', { reason }),
    );
    await events.subscribe(
      new BudgetSettler(config, openBudgetStore(runtime), events, metrics, alerts),
    );
    return await runtime.serve();
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
