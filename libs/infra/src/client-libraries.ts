// The client libraries of Kafka, Redis and ClickHouse, loaded when a client is first made
// rather than at start-up: the all-in-one gateway on its embedded defaults uses none of
// them, and loaded they cost it about 5 MB of heap (their code and source text) and part
// of its start-up. Types come from `import type`, which loads nothing.
import type * as ClickHouseModule from '@clickhouse/client';
import type * as IoRedisModule from 'ioredis';
import type * as KafkaJsModule from 'kafkajs';

let kafka: typeof KafkaJsModule | undefined;
let redis: typeof IoRedisModule | undefined;
let clickhouse: typeof ClickHouseModule | undefined;

/* eslint-disable @typescript-eslint/no-require-imports -- deferring the load is the point */
export const kafkajs = (): typeof KafkaJsModule =>
  (kafka ??= require('kafkajs') as typeof KafkaJsModule);
export const ioredis = (): typeof IoRedisModule =>
  (redis ??= require('ioredis') as typeof IoRedisModule);
export const clickhouseClient = (): typeof ClickHouseModule =>
  (clickhouse ??= require('@clickhouse/client') as typeof ClickHouseModule);
/* eslint-enable @typescript-eslint/no-require-imports */
