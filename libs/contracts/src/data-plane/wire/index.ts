export * from './wire-protocol';
export * from './wire-errors';
export * from './wire-messages';
export * from './stream-frames';
export * from './lazy-chunk';
