import { startBudgetSettlement } from '@aigw/budget';
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
  const runtime = await ServiceRuntime.open(env, { app: 'budget', missingSecrets: 'not-needed' });
  try {
    const settings = budgetSettings(env);
    await startBudgetSettlement(runtime, await openBudgetStore(runtime), settings);
    return await runtime.serve();
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
