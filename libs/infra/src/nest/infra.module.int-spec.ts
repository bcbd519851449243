// The Nest wiring over real servers: the clients asked for resolve and answer, and
// closing the application closes them.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { type ClickHouseClient } from '@clickhouse/client';
import type Redis from 'ioredis';
import { type Kafka } from 'kafkajs';
import { realServices, type RealServices } from '@aigw/testing';
import { InfraModule } from './infra.module';
import { CLICKHOUSE_CLIENT, KAFKA_CLIENT, REDIS_CLIENT } from './infra.tokens';

let services: RealServices;

before(async () => {
  services = await realServices();
});
after(async () => services?.stop());

test('InfraModule provides working clients and closes them on shutdown', async () => {
  const app = await NestFactory.createApplicationContext(
    InfraModule.forRoot({
      kafkaClientId: 'infra-module-int-spec',
      redis: true,
      clickhouse: true,
      env: {
        KAFKA_BROKERS: services.kafkaBrokers,
        REDIS_URL: services.redisUrl,
        CLICKHOUSE_URL: services.clickhouseUrl,
      },
    }),
    { logger: false },
  );
  app.enableShutdownHooks();
  const redis = app.get<Redis>(REDIS_CLIENT);
  const clickhouse = app.get<ClickHouseClient>(CLICKHOUSE_CLIENT);
  const kafka = app.get<Kafka>(KAFKA_CLIENT);

  assert.equal(await redis.ping(), 'PONG');
  assert.equal((await clickhouse.ping()).success, true);
  const admin = kafka.admin();
  await admin.connect();
  assert.ok(Array.isArray(await admin.listTopics()));
  await admin.disconnect();

  await app.close();
  // QUIT is answered before the socket closes; 'end' follows at once.
  if (redis.status !== 'end') await once(redis, 'end', { signal: AbortSignal.timeout(5_000) });
  assert.equal(redis.status, 'end');
});

test('a module without Redis or ClickHouse needs neither URL', async () => {
  const app = await NestFactory.createApplicationContext(
    InfraModule.forRoot({
      kafkaClientId: 'only-kafka',
      env: { KAFKA_BROKERS: services.kafkaBrokers },
    }),
    { logger: false },
  );
  assert.throws(() => app.get(REDIS_CLIENT));
  await app.close();
});
