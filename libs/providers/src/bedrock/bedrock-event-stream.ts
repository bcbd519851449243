import type { JsonObject } from '@aigw/contracts/data-plane';

/** One decoded message of `application/vnd.amazon.eventstream`. */
export interface BedrockStreamEvent {
  /** `event`, `exception` or `error`, from the `:message-type` header. */
  readonly messageType: string;
  /** The event or exception name (`contentBlockDelta`, `throttlingException`, ...). */
  readonly name: string;
  readonly payload: JsonObject;
}

function header(headers: Record<string, { type: string; value: unknown }>, name: string): string {
  const value = headers[name]?.value;
  return typeof value === 'string' ? value : '';
}

/**
 * Decodes AWS's binary event stream with the SDK's own pieces: its chunker frames
 * messages across network chunks (and throws on a truncated one), its codec checks each
 * message's CRCs and parses the headers. (@smithy/eventstream-codec is now only a
 * deprecated re-export of this code in @smithy/core.)
 */
export async function* bedrockEvents(
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<BedrockStreamEvent> {
  // Loaded on the first Bedrock stream, like the signer.
  const [{ EventStreamCodec, getChunkedStream }, { fromUtf8, toUtf8 }] = await Promise.all([
    import('@smithy/core/event-streams'),
    import('@smithy/core/serde'),
  ]);
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  for await (const frame of getChunkedStream(body)) {
    const message = codec.decode(frame);
    const headers = message.headers as Record<string, { type: string; value: unknown }>;
    const messageType = header(headers, ':message-type');
    const name =
      header(headers, ':event-type') ||
      header(headers, ':exception-type') ||
      header(headers, ':error-code');
    let payload: JsonObject = {};
    if (message.body.length > 0) {
      const parsed: unknown = JSON.parse(toUtf8(message.body));
      if (parsed && typeof parsed === 'object') payload = parsed as JsonObject;
    }
    yield { messageType, name, payload };
  }
}
