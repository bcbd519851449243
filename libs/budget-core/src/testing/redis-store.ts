import { Redis } from 'ioredis';
import { startRedis } from '@aigw/testing';
import type { HoldLapseListener } from '../domain/hold-kind';
import { RedisBudgetStore } from '../redis/redis-budget-store';

export interface RedisStoreUnderTest {
  readonly redis: Redis;
  readonly store: RedisBudgetStore;
  readonly close: () => Promise<void>;
}

/** A real Redis with a budget store on it, for the Redis int specs. */
export async function startRedisStore(
  namespace: string,
  onLapse?: HoldLapseListener,
): Promise<RedisStoreUnderTest> {
  const service = await startRedis();
  const redis = new Redis(service.url, { maxRetriesPerRequest: 2 });
  const store = new RedisBudgetStore(redis, { namespace, onLapse });
  return {
    redis,
    store,
    close: async () => {
      redis.disconnect();
      await service.stop();
    },
  };
}
