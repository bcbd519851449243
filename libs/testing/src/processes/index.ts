export * from './gateway-process';
export * from './split-deployment';
export * from './budget-rebuild-cli';
