// Nest wiring, kept thin: each client comes from the framework-free factories and is
// closed when the application shuts down. Only the clients asked for are created, so a
// service without ClickHouse needs no CLICKHOUSE_URL.
import {
  Inject,
  Injectable,
  Module,
  Optional,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { type ClickHouseClient } from '@clickhouse/client';
import type Redis from 'ioredis';
import { createClickHouseClient } from '../clickhouse/clickhouse-client';
import { createKafka } from '../kafka/kafka-client';
import { createRedisClient } from '../redis/redis-client';
import { CLICKHOUSE_CLIENT, KAFKA_CLIENT, REDIS_CLIENT } from './infra.tokens';

export interface InfraModuleOptions {
  /** Kafka client id; set to provide KAFKA_CLIENT (from KAFKA_BROKERS). */
  readonly kafkaClientId?: string;
  /** Provide REDIS_CLIENT (from REDIS_URL). */
  readonly redis?: boolean;
  /** Provide CLICKHOUSE_CLIENT (from CLICKHOUSE_URL). */
  readonly clickhouse?: boolean;
  /** Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

@Injectable()
class InfraShutdown implements OnApplicationShutdown {
  constructor(
    @Optional() @Inject(REDIS_CLIENT) private readonly redis?: Redis,
    @Optional() @Inject(CLICKHOUSE_CLIENT) private readonly clickhouse?: ClickHouseClient,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    // Producers and consumers are closed by their owners; clients here are shared.
    await Promise.allSettled([this.redis?.quit(), this.clickhouse?.close()]);
  }
}

@Module({})
export class InfraModule {
  static forRoot(options: InfraModuleOptions): DynamicModule {
    const env = options.env ?? process.env;
    const providers: Provider[] = [];
    if (options.kafkaClientId !== undefined) {
      const clientId = options.kafkaClientId;
      providers.push({
        provide: KAFKA_CLIENT,
        useFactory: () => createKafka({ clientId, brokers: env.KAFKA_BROKERS }),
      });
    }
    if (options.redis) {
      providers.push({ provide: REDIS_CLIENT, useFactory: () => createRedisClient(env.REDIS_URL) });
    }
    if (options.clickhouse) {
      providers.push({
        provide: CLICKHOUSE_CLIENT,
        useFactory: () => createClickHouseClient({ url: env.CLICKHOUSE_URL }),
      });
    }
    const exported = providers.map((p) => (p as { provide: symbol }).provide);
    return {
      module: InfraModule,
      global: true,
      providers: [...providers, InfraShutdown],
      exports: exported,
    };
  }
}
