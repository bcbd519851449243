export * from './buffered-dispatch';
export * from './transport-errors';
