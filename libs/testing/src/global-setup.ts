// Node test runner global setup (`node --test --test-global-setup=<this file>`): starts
// Redis, Kafka and ClickHouse once for the whole run and hands their addresses to every
// test file through the environment (REDIS_URL, KAFKA_BROKERS, CLICKHOUSE_URL), which the
// runner passes on to the processes it spawns. Addresses already set are used as given.
import { realServices, type RealServices } from './real-services/real-services';

let running: RealServices | undefined;

export async function globalSetup(): Promise<void> {
  const t0 = Date.now();
  running = await realServices();
  process.env.REDIS_URL = running.redisUrl;
  process.env.KAFKA_BROKERS = running.kafkaBrokers;
  process.env.CLICKHOUSE_URL = running.clickhouseUrl;
  const started = running.services.filter((s) => !s.external).map((s) => s.service);
  process.stderr.write(
    started.length === 0
      ? '== real services given by address\n'
      : `== real services up in ${Date.now() - t0} ms (${started.join(', ')})\n`,
  );
}

export async function globalTeardown(): Promise<void> {
  await running?.stop();
  running = undefined;
}
