import 'reflect-metadata';
import { exitWithStartupError, ServiceRuntime } from '@aigw/runtime';

// Placeholder until the budget issue lands: health, readiness and metrics on ADMIN_PORT
// and the embedded event log, so a compose file can already start every service.
async function main(): Promise<void> {
  const runtime = await ServiceRuntime.open(process.env, { app: 'budget', missingSecrets: 'warn' });
  await runtime.serve();
  runtime.logger.info('budget: balances and exhaustion broadcasts arrive with the budget issue');
}

main().catch(exitWithStartupError);
