export * from './domain/anthropic-errors';
export * from './domain/anthropic-request';
export * from './domain/anthropic-response';
export * from './domain/anthropic-stream';
export * from './messages-errors';
export * from './messages-sse';
export * from './messages.controller';
