export * from './secret';
export * from './logging/redact';
export * from './logging/logger';
export * from './logging/nest-logger.service';
export * from './metrics/label-guard';
export * from './metrics/metrics-registry';
export * from './metrics/prometheus-text';
export * from './tracing';
