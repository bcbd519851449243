// Real Redis, Kafka and ClickHouse for *.int-spec.ts suites. An address given in the
// environment (REDIS_URL, KAFKA_BROKERS, CLICKHOUSE_URL) is used as is, as the global
// setup leaves it for every suite of a run; otherwise a container is started for the
// caller and stopped by `stop()`. Started containers are addressed as 127.0.0.1, the only
// address their ports are published on, whatever host the engine reports.
import { Wait } from 'testcontainers';
import { freeLoopbackPort } from './free-port';
import { LOOPBACK, startServiceContainer, ServiceStartError } from './service-container';
import { serviceImage, type ServiceName } from './service-images';

// Re-exported here so suites reach it through @aigw/testing.
export { engineSkipReason } from './engine';

export interface RealService {
  readonly service: ServiceName;
  /** redis://host:port, host:port[,host:port] for Kafka, http://host:port for ClickHouse. */
  readonly url: string;
  /** True when the address came from the environment (nothing was started). */
  readonly external: boolean;
  /** The engine's id of the container started for it; absent for an address given. */
  readonly containerId?: string;
  /** Stops what this call started; a no-op for an address from the environment. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Readiness deadline; AIGW_SERVICE_START_TIMEOUT_MS, else 120 s. */
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export const SERVICE_URL_VARS: Readonly<Record<ServiceName, string>> = {
  redis: 'REDIS_URL',
  kafka: 'KAFKA_BROKERS',
  clickhouse: 'CLICKHOUSE_URL',
};

function timeoutOf(options: StartOptions): number {
  const env = options.env ?? process.env;
  const fromEnv = Number(env.AIGW_SERVICE_START_TIMEOUT_MS);
  return options.timeoutMs ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 120_000);
}

function given(service: ServiceName, options: StartOptions): RealService | undefined {
  const url = (options.env ?? process.env)[SERVICE_URL_VARS[service]]?.trim();
  if (!url) return undefined;
  return { service, url, external: true, stop: async () => undefined };
}

export async function startRedis(options: StartOptions = {}): Promise<RealService> {
  const existing = given('redis', options);
  if (existing) return existing;
  const { image, flavor } = serviceImage('redis', options.env);
  const started = await startServiceContainer({
    service: 'redis',
    image,
    ...(flavor === 'aigw' ? { command: ['aigw-redis'] } : {}),
    ports: [6379],
    wait: Wait.forLogMessage(/Ready to accept connections/),
    timeoutMs: timeoutOf(options),
  });
  const { container } = started;
  return {
    service: 'redis',
    url: `redis://${LOOPBACK}:${container.getMappedPort(6379)}`,
    external: false,
    containerId: container.getId(),
    stop: async () => void (await container.stop({ remove: true, timeout: 1_000 })),
  };
}

export async function startClickHouse(options: StartOptions = {}): Promise<RealService> {
  const existing = given('clickhouse', options);
  if (existing) return existing;
  const { image, flavor } = serviceImage('clickhouse', options.env);
  const started = await startServiceContainer({
    service: 'clickhouse',
    image,
    ...(flavor === 'aigw' ? { command: ['aigw-clickhouse'] } : {}),
    // Current official images refuse network logins for `default` unless told not to.
    env: flavor === 'aigw' ? {} : { CLICKHOUSE_SKIP_USER_SETUP: '1' },
    ports: [8123],
    wait: Wait.forHttp('/ping', 8123).forStatusCode(200),
    timeoutMs: timeoutOf(options),
  });
  const { container } = started;
  return {
    service: 'clickhouse',
    url: `http://${LOOPBACK}:${container.getMappedPort(8123)}`,
    external: false,
    containerId: container.getId(),
    stop: async () => void (await container.stop({ remove: true, timeout: 1_000 })),
  };
}

/**
 * One KRaft node. Kafka hands clients the address it advertises, so a random host port
 * would send them to the container's port: a free host port is chosen first, the broker
 * listens on that same number inside the container, it is published 1:1 and advertised
 * as 127.0.0.1:port.
 */
export async function startKafka(options: StartOptions = {}): Promise<RealService> {
  const existing = given('kafka', options);
  if (existing) return existing;
  const { image, flavor } = serviceImage('kafka', options.env);
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    try {
      const started = await startServiceContainer({
        service: 'kafka',
        image,
        ...(flavor === 'aigw' ? { command: ['aigw-kafka'] } : {}),
        env: kafkaEnv(port),
        ports: [{ container: port, host: port }],
        wait: Wait.forLogMessage(/Kafka Server started/),
        timeoutMs: timeoutOf(options),
      });
      const { container } = started;
      return {
        service: 'kafka',
        url: `${LOOPBACK}:${port}`,
        external: false,
        containerId: container.getId(),
        stop: async () => void (await container.stop({ remove: true, timeout: 2_000 })),
      };
    } catch (error) {
      // Another process may have taken the port between our probe and the bind.
      const portTaken =
        !(error instanceof ServiceStartError) &&
        /address already in use|port is already allocated/i.test(String(error));
      if (!portTaken || attempt >= 3) throw error;
    }
  }
}

/** The KAFKA_* settings both the official image and scripts/infra's aigw-kafka read. */
export function kafkaEnv(port: number): Record<string, string> {
  return {
    CLUSTER_ID: 'aigw-test-cluster-0001',
    KAFKA_NODE_ID: '1',
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${port},CONTROLLER://127.0.0.1:9093`,
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    KAFKA_CONTROLLER_QUORUM_VOTERS: '1@127.0.0.1:9093',
    KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
    KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '3',
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    KAFKA_LOG_DIRS: '/tmp/kraft-combined-logs',
    KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
  };
}

export interface RealServices {
  readonly redisUrl: string;
  readonly kafkaBrokers: string;
  readonly clickhouseUrl: string;
  readonly services: readonly RealService[];
  /** Stops every container these calls started; addresses given stay untouched. */
  stop(): Promise<void>;
}

/** All three, started side by side; if one fails the others are stopped again. */
export async function realServices(options: StartOptions = {}): Promise<RealServices> {
  const results = await Promise.allSettled([
    startRedis(options),
    startKafka(options),
    startClickHouse(options),
  ]);
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    await Promise.allSettled(started.map((s) => s.stop()));
    const first = failures[0];
    if (failures.length === 1) throw first;
    throw new AggregateError(failures, failures.map((f) => String(f)).join('\n'));
  }
  const [redis, kafka, clickhouse] = started as [RealService, RealService, RealService];
  return {
    redisUrl: redis.url,
    kafkaBrokers: kafka.url,
    clickhouseUrl: clickhouse.url,
    services: started,
    stop: async () => void (await Promise.allSettled(started.map((s) => s.stop()))),
  };
}
