export * from './kafka';
export * from './event-transport';
export * from './redis';
export * from './clickhouse';
export * from './nest';
