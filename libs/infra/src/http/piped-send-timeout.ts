import type { Readable } from 'node:stream';
import { CLIENT_SEND_TIMEOUT_MS } from './turn-batched-writer';
import { untilWritableWithin, type DroppableStream } from './until-writable';

/**
 * Holds a stream piped into a response (Fastify sends a Readable body with `pipe`) to the
 * send timeout the gateway's own streamed writes keep: each time the pipe pauses `source`
 * for a full response, a reader that then takes nothing for `timeoutMs` has its connection
 * dropped, and counted, by `untilWritableWithin`. Without it a client that stops reading
 * with its connection open holds the download, and the backend body it reads from, for as
 * long as the connection lives.
 */
export function dropStalledPipeReader(
  source: Readable,
  response: DroppableStream,
  timeoutMs = CLIENT_SEND_TIMEOUT_MS,
): void {
  // `pipe` pauses its source exactly when the response's write returned false.
  const onPause = () => void untilWritableWithin(response, timeoutMs);
  source.on('pause', onPause);
  source.once('close', () => source.off('pause', onPause));
}
