export * from './admin-server';
export * from './listen';
export * from './startup-errors';
export * from './service-settings';
export * from './service-runtime';
export * from './nest-edge-app';
export * from './data-plane-http';
export * from './usage-pricing';
