import type { Readable } from 'node:stream';

/**
 * The chunks of a backend's streamed body. A reader that stops before the body's end (an
 * OpenAI stream's `[DONE]`, or an error) lets go of it here.
 *
 * Why not a plain `for await`: leaving one early destroys the body with an AbortError,
 * whose stack Node formats at once, and undici adds an error of its own; at the end of
 * every stream that was ~5% of a streamed request's CPU. Yet `[DONE]` almost always
 * comes with the body's end, so there is nothing to abort: what is left is drained and
 * the body ends on its own. Only a body still arriving after that is destroyed, which
 * aborts the call and drops its connection, as a plain `for await` would have.
 */
export async function* bodyChunks(body: Readable): AsyncGenerator<Buffer> {
  let finished = false;
  try {
    for await (const chunk of body.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
    finished = true;
  } finally {
    if (!finished) letGo(body);
  }
}

function letGo(body: Readable): void {
  if (body.destroyed || body.readableEnded) return;
  // A body that has fully arrived ends within this turn of the event loop once resumed.
  const abort = setImmediate(() => body.destroy());
  body.once('end', () => clearImmediate(abort));
  // The abort's error is ours to expect; unheard, it would be thrown as an uncaught error.
  body.on('error', ignore);
  body.resume();
}

function ignore(): void {}
