export * from './kafka-client';
export * from './topics';
export * from './json-producer';
export * from './group-consumer';
