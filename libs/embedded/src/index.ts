export * from './embedded-event-bus';
export * from './sqlite-event-log';
