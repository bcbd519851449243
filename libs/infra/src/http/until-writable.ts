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

/** Connections this process dropped for a client that took nothing for the send timeout. */
let sendTimeouts = 0;

/** How many connections `untilWritableWithin` has dropped in this process, for its metric. */
export function clientSendTimeouts(): number {
  return sendTimeouts;
}

/**
 * `untilWritable`, but a stream that takes nothing more for `timeoutMs` is destroyed, which
 * ends the wait (its 'close'). For a client that stopped reading with its connection open:
 * its window shut, a write would otherwise wait as long as the connection lives, holding the
 * call (and what it buffered) with it.
 */
export function untilWritableWithin(
  stream: DrainableStream & { destroy(): void },
  timeoutMs: number,
): Promise<void> {
  if (!stream.writableNeedDrain) return Promise.resolve();
  const timer = setTimeout(() => {
    sendTimeouts++;
    stream.destroy();
  }, timeoutMs);
  return untilWritable(stream).finally(() => clearTimeout(timer));
}
