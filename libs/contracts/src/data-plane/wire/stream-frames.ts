import type { DataPlaneError } from '../data-plane.errors';
import type { JsonObject, TokenUsage } from '../data-plane.types';
import { encodeWireError, type WireErrorBody } from './wire-errors';

const NEWLINE = 0x0a;

// JSON.stringify never emits a raw newline, so one line is always exactly one frame.

export function chunkFrame(chunk: JsonObject): string {
  return `c${JSON.stringify(chunk)}\n`;
}

export function endFrame(usage: TokenUsage): string {
  return `u${JSON.stringify(usage)}\n`;
}

export function errorFrame(error: DataPlaneError, usage?: TokenUsage): string {
  const body: WireErrorBody & { usage?: TokenUsage } = encodeWireError(error);
  if (usage) body.usage = usage;
  return `e${JSON.stringify(body)}\n`;
}

/** The JSON after a frame line's tag byte. */
export function framePayload(line: Buffer): unknown {
  return JSON.parse(line.toString('utf8', 1, line.length - 1));
}

/**
 * Splits a byte stream into frame lines (tag, JSON, newline), as slices of the bytes
 * received: a frame is copied only when it straddles network reads, and then once, when its
 * newline comes (held as the pieces it came in until then: copying what was held onto each
 * read made a large frame's cost grow with its size squared). A trailing partial line is
 * dropped; the reader then sees a stream without its end frame.
 */
export async function* frameLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let held: Buffer[] = [];
  for await (const piece of body) {
    const buffer = Buffer.isBuffer(piece)
      ? piece
      : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    let start = 0;
    let newline = buffer.indexOf(NEWLINE);
    if (held.length > 0 && newline !== -1) {
      held.push(buffer.subarray(0, newline + 1));
      yield Buffer.concat(held);
      held = [];
      start = newline + 1;
      newline = buffer.indexOf(NEWLINE, start);
    }
    while (newline !== -1) {
      yield buffer.subarray(start, newline + 1);
      start = newline + 1;
      newline = buffer.indexOf(NEWLINE, start);
    }
    if (start < buffer.length) held.push(buffer.subarray(start));
  }
}
