import { describeBudgetScenarios } from './budget-scenarios';

// The embedded store: SQLite under the data directory, no external service.
describeBudgetScenarios('embedded store', async () => ({}));
