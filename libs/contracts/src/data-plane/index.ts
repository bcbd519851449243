export * from './data-plane.types';
export * from './data-plane.errors';
