export * from './domain/backend-chain';
export * from './domain/backend-health';
export * from './domain/backend-load';
export * from './failover-router';
export * from './realtime-routing';
export * from './router-telemetry';
export * from './tracing/attempt-tracing';
export * from './admin/backend-admin-routes';
