export * from './embedded-event-bus';
export * from './sqlite-event-log';
export * from './wal-checkpointer';
export * from './sqlite-transaction';
export * from './sqlite-wal-database';
export * from './multi-row-insert';
export * from './poison-isolation';
