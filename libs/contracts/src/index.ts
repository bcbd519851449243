import 'reflect-metadata';

export * from './result';
export * from './topics';
export * from './contracts.errors';
export * from './validation/validate-plain';
export * from './events';
export * from './openai';
export * from './anthropic';
export * from './ports/event-bus.port';
