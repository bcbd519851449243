export * from './data-plane.types';
export * from './data-plane.errors';
export * from './token-estimate';
export * from './json-depth';
export * from './wire';
export * from './usage-event';
export * from './reasoning';
export * from './audio-duration';
