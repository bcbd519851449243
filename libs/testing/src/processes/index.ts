export * from './gateway-process';
