export * from './gateway-process';
export * from './split-deployment';
