import type { EventEmitter } from 'node:events';

/** What a write-side stream (a ServerResponse, a socket) tells about its buffer. */
export interface DrainableStream extends EventEmitter {
  /** True while a write has returned false and no 'drain' has followed (false once destroyed). */
  readonly writableNeedDrain: boolean;
}

/**
 * Resolves once a stream whose `write()` returned false can take more, or never will: on
 * 'drain', 'close' or 'error'. A stream with nothing to drain (destroyed, ended, or never
 * full) resolves at once. That check is the point: a client that hangs up makes `write()`
 * return false on a response that will never drain, and its 'close' may already have been
 * emitted, so a wait for 'drain' (or 'close') alone could last for ever, holding the
 * request's record and its upstream call with it.
 */
export function untilWritable(stream: DrainableStream): Promise<void> {
  if (!stream.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    stream.once('drain', done).once('close', done).once('error', done);
  });
}
