export * from './redis-client';
export * from './lua-scripts';
