import 'reflect-metadata';
import { exitWithStartupError, ServiceRuntime } from '@aigw/runtime';

// Placeholder until the usage-sink issue lands: health, readiness and metrics on ADMIN_PORT
// and the embedded event log, so a compose file can already start every service.
async function main(): Promise<void> {
  const runtime = await ServiceRuntime.open(process.env, {
    app: 'usage-sink',
    missingSecrets: 'warn',
  });
  await runtime.serve();
  runtime.logger.info(
    'usage-sink: the ClickHouse sink and usage API arrive with the usage-sink issue',
  );
}

main().catch(exitWithStartupError);
