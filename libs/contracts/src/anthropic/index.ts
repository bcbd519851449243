export * from './messages.dto';
export * from './cache-control';
