export * from './admin-server';
export * from './listen';
