import { cutText, type CutText } from './cut-text';

/**
 * A value's JSON text as logged: exactly `cutText(JSON.stringify(value) ?? '', maxBytes)`
 * (same kept text, `truncated` and whole `bytes`), but only the first `maxBytes` characters
 * or so of the text are ever made. The rest is walked to count its UTF-8 bytes, so a 32 MB
 * body of base64 images costs a walk, not a 32 MB string.
 *
 * Follows JSON.stringify without a replacer: toJSON, undefined/functions/symbols left out
 * of objects and null in arrays, non-finite numbers as null. For what it does not do itself
 * (a cycle, a BigInt, a boxed primitive: never in a parsed body) it falls back to
 * JSON.stringify, which then throws or serializes as it always did (toJSON runs again).
 * Unlike JSON.stringify it does not recurse, so no depth overflows the stack.
 */
export function cutJson(value: unknown, maxBytes: number): CutText {
  return new JsonCut(maxBytes).run(value) ?? cutText(JSON.stringify(value) ?? '', maxBytes);
}

/** Not printable ASCII needing no escape: base64 has none, so its size is its length. */
const NOT_PLAIN = /[^\u0020\u0021\u0023-\u005b\u005d-\u007e]/;
const ESCAPED_OR_SURROGATE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** UTF-8 bytes of JSON.stringify(text), without making it. */
function quotedBytes(text: string): number {
  if (!NOT_PLAIN.test(text)) return text.length + 2;
  // Buffer.byteLength counts a lone surrogate as U+FFFD (3 bytes); escapes are added.
  let bytes = Buffer.byteLength(text) + 2;
  if (!ESCAPED_OR_SURROGATE.test(text)) return bytes;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20) bytes += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 1 : 5;
    else if (c === 0x22 || c === 0x5c) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else bytes += 3; // \udXXX
    } else if (c >= 0xdc00 && c <= 0xdfff) bytes += 3;
  }
  return bytes;
}

/** A value JSON.stringify writes nothing for (left out of an object, null in an array). */
const SKIPPED = Symbol('skipped');
/** A value this walk hands back to JSON.stringify. */
class Unsupported extends Error {}

interface Frame {
  readonly holder: object;
  /** An object's keys; undefined for an array. */
  readonly keys: readonly string[] | undefined;
  readonly length: number;
  next: number;
  /** Whether a member was written (an object's first ones may all be left out). */
  wrote: boolean;
}

class JsonCut {
  /** The text's first characters: at least maxBytes of them once that many were written. */
  private head = '';
  /** UTF-8 bytes of the head, counted when a string is cut into it (else at the end). */
  private headBytes?: number;
  /** UTF-8 bytes of the text past the head. */
  private tailBytes = 0;
  private readonly stack: Frame[] = [];
  /** The objects being written, for JSON.stringify's cycle error. */
  private readonly open = new Set<object>();

  constructor(private readonly maxBytes: number) {}

  run(value: unknown): CutText | undefined {
    try {
      const top = this.resolve(value, '');
      if (top === SKIPPED) return { text: '', truncated: false, bytes: 0 };
      this.write(top);
      this.walk();
    } catch (error) {
      if (error instanceof Unsupported) return undefined;
      throw error;
    }
    const bytes = (this.headBytes ?? Buffer.byteLength(this.head)) + this.tailBytes;
    if (bytes <= this.maxBytes) return { text: this.head, truncated: false, bytes };
    // The head holds the text's first maxBytes characters, all cutText looks at.
    return { ...cutText(this.head, this.maxBytes), truncated: true, bytes };
  }

  private walk(): void {
    for (let frame = this.stack.at(-1); frame; frame = this.stack.at(-1)) {
      if (frame.next === frame.length) {
        this.ascii(frame.keys ? '}' : ']');
        this.open.delete(frame.holder);
        this.stack.pop();
        continue;
      }
      const i = frame.next++;
      if (frame.keys) {
        const key = frame.keys[i];
        const value = this.resolve((frame.holder as Record<string, unknown>)[key], key);
        if (value === SKIPPED) continue;
        if (frame.wrote) this.ascii(',');
        frame.wrote = true;
        this.string(key);
        this.ascii(':');
        this.write(value);
      } else {
        if (i > 0) this.ascii(',');
        const value = this.resolve((frame.holder as unknown[])[i], i);
        if (value === SKIPPED) this.ascii('null');
        else this.write(value);
      }
    }
  }

  /** The value JSON.stringify writes for `value` under `key`: toJSON applied, or SKIPPED. */
  private resolve(value: unknown, key: string | number): unknown {
    if (typeof value === 'object' && value !== null) {
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') value = toJSON.call(value, String(key));
    }
    switch (typeof value) {
      case 'undefined':
      case 'function':
      case 'symbol':
        return SKIPPED;
      case 'bigint':
        throw new Unsupported();
      case 'object':
        if (
          value instanceof Number ||
          value instanceof String ||
          value instanceof Boolean ||
          value instanceof BigInt
        )
          throw new Unsupported();
        return value;
      default:
        return value;
    }
  }

  /** Writes a resolved value; an array or object is opened and its members left to walk. */
  private write(value: unknown): void {
    if (value === null) return this.ascii('null');
    if (typeof value === 'string') return this.string(value);
    if (typeof value === 'number')
      return this.ascii(Number.isFinite(value) ? String(value) : 'null');
    if (typeof value === 'boolean') return this.ascii(value ? 'true' : 'false');
    const holder = value as object;
    if (this.open.has(holder)) throw new Unsupported(); // a cycle: JSON.stringify's error
    this.open.add(holder);
    if (Array.isArray(holder)) {
      this.ascii('[');
      this.stack.push({ holder, keys: undefined, length: holder.length, next: 0, wrote: false });
    } else {
      const keys = Object.keys(holder);
      this.ascii('{');
      this.stack.push({ holder, keys, length: keys.length, next: 0, wrote: false });
    }
  }

  // What goes into the head whole is counted at the end, in one call.
  private ascii(text: string): void {
    if (this.head.length < this.maxBytes) this.head += text;
    else this.tailBytes += text.length;
  }

  private string(text: string): void {
    const room = this.maxBytes - this.head.length;
    if (room <= 0) {
      this.tailBytes += quotedBytes(text);
      return;
    }
    if (text.length <= room) {
      this.head += JSON.stringify(text);
      return;
    }
    // Cut into the head: the head is counted now and the whole string as the tail.
    this.headBytes = Buffer.byteLength(this.head);
    this.tailBytes += quotedBytes(text);
    // Each character writes at least one, so `room` of them fill the head. A pair is taken
    // whole (its high half alone would be escaped) to keep the head a prefix of the text.
    let end = room;
    const last = text.charCodeAt(end - 1);
    const next = text.charCodeAt(end);
    if (last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) end++;
    const quoted = JSON.stringify(text.slice(0, end));
    this.head += quoted.slice(0, -1); // not the closing quote: the text goes on
  }
}
