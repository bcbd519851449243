export * from './domain/responses-request';
export * from './domain/responses-response';
export * from './domain/responses-stream';
export * from './responses-dialect';
export * from './responses-sse';
