import { Redis } from 'ioredis';
import { startRedis } from '@aigw/testing';
import { describeBudgetStoreContract } from '../testing/budget-store.contract';
import { RedisBudgetStore } from './redis-budget-store';

describeBudgetStoreContract('Redis (Lua scripts)', async (onLapse) => {
  const service = await startRedis();
  const redis = new Redis(service.url, { maxRetriesPerRequest: 2 });
  const store = new RedisBudgetStore(redis, { namespace: 'test', onLapse });
  return {
    store,
    close: async () => {
      redis.disconnect();
      await service.stop();
    },
  };
});
