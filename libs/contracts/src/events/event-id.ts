import { randomFillSync } from 'node:crypto';

// Event ids are UUIDv7 (RFC 9562 §5.7): a 48-bit Unix-millisecond timestamp first, so ids
// made later sort later and every store keyed by event id (the event log's unique index,
// the usage tables, the budget's applied-events table) appends at the end of its B-tree
// instead of writing to a random page. A random UUIDv4 there cost ~3× the CPU per insert.
//
// Layout, in hex digits:   tttttttt-tttt-7ccc-Vccc-rrrrrrrrrrrr
//   t: milliseconds; 7: the version; c: a 26-bit counter (RFC 9562 §6.2, method 1) in
//   rand_a and after the variant bits; V: the variant 10 and the counter's next two bits;
//   r: 48 random bits, fresh for every id.
//
// The `uuid` package's v7 takes ~1.3 µs an id (one getRandomValues call each); this takes
// ~60 ns by drawing random bytes from a pooled buffer.

const COUNTER_BITS = 26;
const COUNTER_LIMIT = 2 ** COUNTER_BITS;
/** A new millisecond's counter starts below half its range: ≥ 2^25 ids fit before a wrap. */
const SEED_MASK = 2 ** (COUNTER_BITS - 1) - 1;

/** Char codes of each byte's two hex digits: HEX_CODES[2b] and HEX_CODES[2b + 1]. */
const HEX_CODES = new Uint8Array(512);
for (let byte = 0; byte < 256; byte++) {
  const hex = byte.toString(16).padStart(2, '0');
  HEX_CODES[2 * byte] = hex.charCodeAt(0);
  HEX_CODES[2 * byte + 1] = hex.charCodeAt(1);
}
const DIGIT_CODES = Uint8Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));
const DASH = 0x2d;

/** Random bytes per id: 6 for the tail, 4 to seed the counter when the millisecond changes. */
const RANDOM_BYTES_PER_ID = 10;
// One randomFillSync per 1024 ids: at 256 the call was ~2% of a request's events and telemetry.
const IDS_PER_REFILL = 1024;

/**
 * Makes UUIDv7 strings that are unique and strictly increasing within this generator
 * (one per process, `newEventId`): within a millisecond the counter counts up; when it
 * would wrap, or the clock steps back, the timestamp is carried forward instead.
 */
export class EventIdGenerator {
  private readonly pool = new Uint8Array(IDS_PER_REFILL * RANDOM_BYTES_PER_ID);
  private poolOffset = this.pool.length;
  private lastMs = -1;
  private counter = 0;
  /** Char codes of `tttttttt-tttt-7`, the first 15 characters of this millisecond's ids. */
  private readonly head = new Uint8Array(15);

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly fillRandom: (bytes: Uint8Array) => void = randomFillSync,
  ) {}

  next(): string {
    const pool = this.pool;
    const at = this.takeRandom();
    const now = this.clock();
    if (now > this.lastMs) {
      this.counter =
        ((pool[at + 6] << 24) | (pool[at + 7] << 16) | (pool[at + 8] << 8) | pool[at + 9]) &
        SEED_MASK;
      this.setTimestamp(now);
    } else if (++this.counter === COUNTER_LIMIT) {
      this.counter = 0;
      this.setTimestamp(this.lastMs + 1);
    }
    const high = this.counter >>> 14; // 12 bits: rand_a
    const low = 0x8000 | (this.counter & 0x3fff); // variant 10, then 14 bits
    const h = this.head;
    const x = HEX_CODES;
    // One flat string from char codes: joining 14 pieces with `+` made a tree of cons strings
    // that JSON.stringify and SQLite then flattened; building the 3 events of a request
    // and their JSON took ~2× the CPU with it (bench/micro/telemetry.ts: 8.0 -> 4.0 µs).
    // prettier-ignore
    return String.fromCharCode(
      h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14],
      DIGIT_CODES[high >>> 8], x[2 * (high & 0xff)], x[2 * (high & 0xff) + 1],
      DASH,
      x[2 * (low >>> 8)], x[2 * (low >>> 8) + 1], x[2 * (low & 0xff)], x[2 * (low & 0xff) + 1],
      DASH,
      x[2 * pool[at]], x[2 * pool[at] + 1], x[2 * pool[at + 1]], x[2 * pool[at + 1] + 1],
      x[2 * pool[at + 2]], x[2 * pool[at + 2] + 1], x[2 * pool[at + 3]], x[2 * pool[at + 3] + 1],
      x[2 * pool[at + 4]], x[2 * pool[at + 4] + 1], x[2 * pool[at + 5]], x[2 * pool[at + 5] + 1],
    );
  }

  private takeRandom(): number {
    if (this.poolOffset === this.pool.length) {
      this.fillRandom(this.pool);
      this.poolOffset = 0;
    }
    const at = this.poolOffset;
    this.poolOffset += RANDOM_BYTES_PER_ID;
    return at;
  }

  // Formatted once per millisecond, not once per id.
  private setTimestamp(ms: number): void {
    this.lastMs = ms;
    const hex = ms.toString(16).padStart(12, '0');
    const head = `${hex.slice(0, 8)}-${hex.slice(8)}-7`;
    for (let i = 0; i < head.length; i++) this.head[i] = head.charCodeAt(i);
  }
}

const processIds = new EventIdGenerator();

/** A fresh event id: a UUIDv7 greater than every id this process made before. */
export function newEventId(): string {
  return processIds.next();
}
