import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisBudgetStore } from '@aigw/budget-core';
import { startRedis } from '@aigw/testing';
import { describeRenamedTier } from './testing/renamed-tier-cases';

describeRenamedTier('Redis', async () => {
  const service = await startRedis();
  const redis = new Redis(service.url, { maxRetriesPerRequest: 2 });
  const store = new RedisBudgetStore(redis, { namespace: `renamed-tier-${randomUUID()}` });
  return {
    store,
    close: async () => {
      redis.disconnect();
      await service.stop();
    },
  };
});
