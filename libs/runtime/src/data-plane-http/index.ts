export * from './answer-writer';
export * from './wire-server';
export * from './wire-client';
export * from './router-wire-server';
export * from './provider-wire-server';
export * from './http-router-client';
export * from './http-provider-client';
export * from './backend-targets';
