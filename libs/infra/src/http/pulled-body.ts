import { Readable } from 'node:stream';

/**
 * A fetch answer's body as a Node Readable, read one chunk at a time and only when its
 * reader wants more, so backpressure reaches the socket behind it. `idleMs` bounds each
 * wait for the next bytes (the request's `controller` aborted with a TimeoutError); a slow
 * reader is never timed. Destroyed (its reader gone), the request is aborted at once, even
 * while a read waits (an async iterator's return would wait for the bytes, or the timeout).
 * A read that fails destroys it with `failure(error)`, never ends it, so a body cut on the
 * way never looks whole.
 */
export function pulledBody(
  stream: ReadableStream<Uint8Array>,
  controller: AbortController,
  idleMs: number,
  failure: (error: unknown) => Error,
): Readable {
  const reader = stream.getReader();
  let timer: NodeJS.Timeout | undefined;
  let reading = false;
  const pull = (): void => {
    reading = true;
    timer = setTimeout(() => controller.abort(timedOut()), idleMs);
    reader.read().then(
      (next) => {
        clearTimeout(timer);
        reading = false;
        if (body.destroyed) return;
        if (next.done) body.push(null);
        // An empty chunk would end this read without asking for the next: ask again.
        else if (next.value.length === 0) pull();
        else body.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.length));
      },
      (error: unknown) => {
        clearTimeout(timer);
        reading = false;
        if (!body.destroyed) body.destroy(failure(error));
      },
    );
  };
  const body = new Readable({
    read() {
      if (!reading) pull();
    },
    destroy(error, callback) {
      clearTimeout(timer);
      controller.abort();
      callback(error);
    },
  });
  return body;
}

/** The reason a request is aborted with when a wait it bounds runs out (a TimeoutError). */
export function timedOut(): DOMException {
  return new DOMException('timed out', 'TimeoutError');
}
