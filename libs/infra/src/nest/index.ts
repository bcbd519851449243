export * from './infra.module';
export * from './infra.tokens';
