export * from './budget-store.port';
export * from './domain/budget-amounts';
export * from './domain/budget-limits';
export * from './domain/budget-window';
export * from './embedded/local-budget-store';
export * from './redis/budget-scripts';
export * from './redis/redis-budget-store';
