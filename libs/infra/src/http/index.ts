export * from './buffered-dispatch';
