import { after } from 'node:test';
import { startRedis, type RealService } from '@aigw/testing';
import { describeBudgetScenarios } from './budget-scenarios';

// The same scenarios with the balances in real Redis (REDIS_URL, else a container).
let redis: Promise<RealService> | undefined;
describeBudgetScenarios('Redis store', async () => ({
  REDIS_URL: (await (redis ??= startRedis())).url,
}));
after(async () => (await redis)?.stop());
