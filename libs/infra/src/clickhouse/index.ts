export * from './clickhouse-client';
export * from './migration-files';
export * from './migration-runner';
