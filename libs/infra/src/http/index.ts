export * from './buffered-dispatch';
export * from './transport-errors';
export * from './until-writable';
export * from './turn-batched-writer';
export * from './pulled-body';
export * from './piped-send-timeout';
