import { LocalBudgetStore } from '@aigw/budget-core';
import { describeRenamedTier } from './testing/renamed-tier-cases';

describeRenamedTier('embedded store', async () => {
  const store = new LocalBudgetStore(':memory:');
  return { store, close: async () => store.close() };
});
