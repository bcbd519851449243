export * from './jwks-server';
export * from './test-issuer';
export * from './bench-routes';
