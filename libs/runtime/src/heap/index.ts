export * from './heap-growth';
