import type { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

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

/** A response (or socket) whose waits `untilWritableWithin` bounds. */
export interface DroppableStream extends DrainableStream {
  readonly writableLength: number;
  /** A response's connection: its libuv queue shows a large write going out piece by piece. */
  readonly socket?: unknown;
  destroy(): void;
}

/**
 * `untilWritable`, but a stream whose reader takes nothing for `timeoutMs` is destroyed,
 * which ends the wait (its 'close'). For a client that stopped reading with its connection
 * open: its window shut, a write would otherwise wait as long as the connection lives,
 * holding the call (and what it buffered) with it. Timed from the reader's last progress,
 * as nginx's send_timeout, not from the write: one event larger than the socket's buffers
 * (a streamed image's base64) drains only once nearly all of it is taken, which a steady
 * reader on a slow link may take longer than the timeout to do. A pause of this whole
 * process (seen as a look that came late) is not counted against the reader.
 */
export function untilWritableWithin(stream: DroppableStream, timeoutMs: number): Promise<void> {
  if (!stream.writableNeedDrain) return Promise.resolve();
  const everyMs = Math.max(1, Math.floor(timeoutMs / CHECKS_PER_TIMEOUT));
  let held = bytesHeld(stream);
  // A monotonic clock: the timeout is a duration, which a wall clock stepped back (NTP, a
  // VM resumed) would stretch by the step, holding a stalled reader that much longer.
  let lastProgress = performance.now();
  let lastLook = lastProgress;
  const check = setInterval(() => {
    const at = performance.now();
    // A look due long before it came: this process was held (a GC pause, a starved CPU),
    // and no look could see the reader's progress meanwhile. That time is not the reader's.
    const late = at - lastLook - everyMs;
    if (late > everyMs) lastProgress += late;
    lastLook = at;
    const now = bytesHeld(stream);
    if (now < held) lastProgress = at;
    held = now;
    if (at - lastProgress < timeoutMs) return;
    clearInterval(check);
    sendTimeouts++;
    stream.destroy();
  }, everyMs);
  return untilWritable(stream).finally(() => clearInterval(check));
}

/** How often within a send timeout the reader's progress is looked at (drop within 1.25×). */
const CHECKS_PER_TIMEOUT = 4;

/**
 * Bytes the stream holds for its reader. Its own count drops only once a whole write has
 * gone, so libuv's queue of the connection (Node's own field of the socket's handle) is
 * added where there is one: it shrinks as the reader takes a large write.
 */
function bytesHeld(stream: DroppableStream): number {
  const socket = stream.socket as { _handle?: { writeQueueSize?: unknown } | null } | null;
  const queued = socket?._handle?.writeQueueSize;
  return stream.writableLength + (typeof queued === 'number' ? queued : 0);
}
