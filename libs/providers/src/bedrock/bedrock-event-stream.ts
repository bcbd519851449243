import { crc32 } from 'node:zlib';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { parseJsonObject } from '../core/json-shape';
import { MAX_SSE_STREAM_CHARS, SseStreamTooLargeError } from '../core/sse-events';
import { streamInterrupted } from '../core/upstream-http';

/** One decoded message of `application/vnd.amazon.eventstream`. */
export type BedrockStreamEvent =
  | {
      readonly kind: 'event';
      /** The `:event-type` (`messageStart`, `contentBlockDelta`, ...). */
      readonly name: string;
      readonly payload: JsonObject;
    }
  | {
      /** An `exception` message or an `error` message: the stream failed. */
      readonly kind: 'exception';
      /** `throttlingException`, `modelStreamErrorException`, an `:error-code`, ... */
      readonly name: string;
      readonly message: string | undefined;
    };

// A frame is: total length (4 bytes), headers length (4), prelude CRC (4), headers,
// payload, message CRC (4). Lengths are big-endian and count the whole frame.
const PRELUDE_BYTES = 12;
const MIN_FRAME_BYTES = PRELUDE_BYTES + 4;

/**
 * The largest frame accepted, as in AWS's own event-stream library (16 MiB). The length
 * is read before the frame arrives; a backend declaring more must not make us buffer it.
 */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

type Headers = Record<string, { type: string; value: unknown }>;
type Codec = { decode(frame: Uint8Array): { headers: Headers; body: Uint8Array } };

/**
 * Decodes AWS's binary event stream. Framing is ours, so a frame's declared length is
 * checked (prelude CRC, bounds) before anything is buffered for it; the SDK's codec then
 * checks each frame's CRCs and parses its headers. Any violation ends the stream with a
 * StreamInterrupted error that says what was wrong. A stream past `maxStreamBytes` in all
 * ends with SseStreamTooLargeError, as an SSE stream past its bound does (the same 256 Mi).
 */
export async function* bedrockEvents(
  body: AsyncIterable<Uint8Array>,
  backendName: string,
  maxStreamBytes = MAX_SSE_STREAM_CHARS,
): AsyncGenerator<BedrockStreamEvent> {
  // Loaded on the first Bedrock stream, like the signer.
  const [{ EventStreamCodec }, { fromUtf8, toUtf8 }] = await Promise.all([
    import('@smithy/core/event-streams'),
    import('@smithy/core/serde'),
  ]);
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const malformed = (what: string) => streamInterrupted(backendName, `sent ${what}`);
  for await (const frame of eventStreamFrames(body, malformed, maxStreamBytes)) {
    yield streamEvent(decodeFrame(codec, frame, malformed), toUtf8, malformed);
  }
}

type Malformed = (what: string) => Error;

/**
 * Splits a byte stream into whole frames, refusing impossible lengths up front and a
 * stream past `maxStreamBytes` in all: each frame is bounded, but a backend sending them
 * without end would otherwise grow what a Responses, cached or shared stream gathers.
 */
async function* eventStreamFrames(
  body: AsyncIterable<Uint8Array>,
  malformed: Malformed,
  maxStreamBytes: number,
): AsyncGenerator<Uint8Array> {
  const pending = new PendingBytes();
  let frameLength: number | undefined;
  let received = 0;
  for await (const chunk of body) {
    received += chunk.length;
    if (received > maxStreamBytes) throw new SseStreamTooLargeError(maxStreamBytes, 'bytes');
    pending.push(chunk);
    for (;;) {
      if (frameLength === undefined) {
        if (pending.length < PRELUDE_BYTES) break;
        frameLength = checkedFrameLength(pending.peek(PRELUDE_BYTES), malformed);
      }
      if (pending.length < frameLength) break;
      yield pending.take(frameLength);
      frameLength = undefined;
    }
  }
  if (pending.length > 0) {
    throw malformed(`an event stream that ended inside a frame (${pending.length} bytes of it)`);
  }
}

/** A frame's total length from its prelude, once the prelude's own CRC holds. */
function checkedFrameLength(prelude: Uint8Array, malformed: Malformed): number {
  const view = new DataView(prelude.buffer, prelude.byteOffset, PRELUDE_BYTES);
  if (crc32(prelude.subarray(0, 8)) !== view.getUint32(8)) {
    throw malformed('an event-stream frame whose prelude checksum does not match');
  }
  const length = view.getUint32(0);
  if (length < MIN_FRAME_BYTES || length > MAX_FRAME_BYTES) {
    throw malformed(
      `an event-stream frame declaring ${length} bytes (a frame holds ${MIN_FRAME_BYTES} to ${MAX_FRAME_BYTES})`,
    );
  }
  return length;
}

function decodeFrame(
  codec: Codec,
  frame: Uint8Array,
  malformed: Malformed,
): { headers: Headers; body: Uint8Array } {
  try {
    return codec.decode(frame);
  } catch (error) {
    // The codec's own words: a checksum mismatch, an unknown header type, bad lengths.
    const reason = error instanceof Error ? error.message : String(error);
    throw malformed(`an event-stream frame it cannot decode (${reason.slice(0, 200)})`);
  }
}

function streamEvent(
  message: { headers: Headers; body: Uint8Array },
  toUtf8: (bytes: Uint8Array) => string,
  malformed: Malformed,
): BedrockStreamEvent {
  const { headers, body } = message;
  const messageType = header(headers, ':message-type');
  switch (messageType) {
    case 'event': {
      const name = header(headers, ':event-type');
      if (!name) throw malformed('an event without its :event-type');
      const payload = parseJsonObject(toUtf8(body));
      if (!payload) throw malformed(`a ${name} event whose payload is not a JSON object`);
      return { kind: 'event', name, payload };
    }
    case 'exception':
      return {
        kind: 'exception',
        name: header(headers, ':exception-type') || 'an exception',
        message: exceptionMessage(parseJsonObject(toUtf8(body))),
      };
    case 'error':
      return {
        kind: 'exception',
        name: header(headers, ':error-code') || 'an error',
        message: header(headers, ':error-message') || undefined,
      };
    default:
      throw malformed(`a frame of message type "${messageType.slice(0, 50)}"`);
  }
}

/**
 * An exception's words: its `message`, and for a modelStreamErrorException what the model
 * itself answered (`originalStatusCode`, `originalMessage`), where Bedrock's own message is
 * only "The system encountered an unexpected error".
 */
function exceptionMessage(payload: JsonObject | undefined): string | undefined {
  const message = typeof payload?.message === 'string' ? payload.message : undefined;
  const original = payload?.originalMessage;
  if (typeof original !== 'string' || original === '') return message;
  const status = payload?.originalStatusCode;
  const said = `the model answered${typeof status === 'number' ? ` ${status}` : ''}: ${original}`;
  return message ? `${message} (${said})` : said;
}

function header(headers: Headers, name: string): string {
  const value = headers[name]?.value;
  return typeof value === 'string' ? value : '';
}

/**
 * Bytes received but not yet framed. Chunks are joined only when a prelude or a whole
 * frame is due, so a large frame arriving in many chunks is copied once, not per chunk.
 */
class PendingBytes {
  private chunks: Uint8Array[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The first `count` bytes, left in place. */
  peek(count: number): Uint8Array {
    return this.joined().subarray(0, count);
  }

  /** The first `count` bytes, removed. */
  take(count: number): Uint8Array {
    const all = this.joined();
    const rest = all.subarray(count);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    return all.subarray(0, count);
  }

  private joined(): Uint8Array {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0] ?? new Uint8Array(0);
  }
}
