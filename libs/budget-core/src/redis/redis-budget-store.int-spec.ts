import { describeBudgetStoreContract } from '../testing/budget-store.contract';
import { startRedisStore } from '../testing/redis-store';

describeBudgetStoreContract('Redis (Lua scripts)', (onLapse) => startRedisStore('test', onLapse));
