export * from './event-spool';
export * from './event-topics';
export * from './kafka-connection-supervisor';
export * from './kafka-event-bus';
export * from './kafka-log';
export * from './kafka-replay';
export * from './open-event-spool';
export * from './unreadable-spool-error';
