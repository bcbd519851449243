export * from './kafka';
export * from './redis';
export * from './clickhouse';
export * from './nest';
