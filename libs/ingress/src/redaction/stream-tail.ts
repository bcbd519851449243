import type { RedactMatch, RedactionTally, Redactor } from './redactor';

/** What a step releases: text safe to send, and the rule that withheld the rest, if one did. */
export interface TailStep {
  readonly text: string;
  readonly blocked?: string;
}

/** Characters of released text kept before the held text, for the rules' look-behinds. */
const CONTEXT = 16;

/** The longest a released match is followed as it grows (memory and scan time bounded). */
const MAX_GROWN = 64 * 1024;

/**
 * `text` from `from` to `to` with every match in it replaced by its placeholder (counted),
 * or cut before the first block match. `matches` are in text order.
 */
export function applyMatches(
  text: string,
  matches: readonly RedactMatch[],
  from: number,
  to: number,
  tally: RedactionTally,
): TailStep {
  let out = '';
  let at = from;
  for (const match of matches) {
    if (match.end > to) break;
    if (match.start < from) continue;
    out += text.slice(at, match.start);
    if (match.block) return { text: out, blocked: match.rule };
    out += match.placeholder;
    tally.set(match.rule, (tally.get(match.rule) ?? 0) + 1);
    at = match.end;
  }
  return { text: out + text.slice(at, to) };
}

/**
 * One streamed choice's text, checked as it arrives. The last `hold` characters are held
 * back, since more text could still turn them into a match (a card number's last digits,
 * an email's domain) or complete one that began earlier; a match that could still grow is
 * held whole. What lies further back is final and is released redacted. Work per chunk
 * is one scan of at most about twice `hold` characters plus the chunk.
 *
 * A match as long as `hold` is released (as its placeholder) when it reaches that length;
 * while it may still grow, its start is kept and what it grows by is swallowed, so a secret
 * longer than the hold (a JWT) never shows its tail. Past MAX_GROWN characters it is let go.
 */
export class StreamTail {
  /** Released context (the first `from` characters), then the held text. */
  private text = '';
  private from = 0;
  /** Where in `text` a match released at the hold's length starts, while it may grow. */
  private growing: number | undefined;

  constructor(
    private readonly scanner: Redactor,
    private readonly hold: number,
    private readonly tally: RedactionTally,
  ) {}

  /** Adds a chunk's text; returns what is now safe to send. */
  push(delta: string): TailStep {
    this.text += delta;
    if (this.text.length - this.from <= this.hold) return { text: '' };
    return this.release(false);
  }

  /** The choice ended: everything held is final. */
  flush(): TailStep {
    if (this.text.length === this.from) return { text: '' };
    return this.release(true);
  }

  private release(final: boolean): TailStep {
    const text = this.text;
    const matches = this.scanner.matches(text, this.growing ?? this.from);
    let from = this.from;
    if (this.growing !== undefined) {
      const start = this.growing;
      this.growing = undefined;
      // Its placeholder went out: what it grew by is part of it, masked, and sent nowhere.
      const grown = matches.find((m) => m.start === start && m.end > from);
      if (grown && grown.end === text.length && !final) {
        if (text.length - start <= MAX_GROWN) {
          this.growing = start;
          this.from = text.length;
        } else {
          this.keep(text, text.length);
        }
        return { text: '' };
      }
      if (grown) from = grown.end;
    }
    let cut = final ? text.length : text.length - this.hold;
    let growing: number | undefined;
    if (!final) {
      // Never between a surrogate pair's halves: each half alone is no character, and a
      // client that decodes chunk by chunk (or re-encodes as UTF-8) would mangle it.
      if (isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
      const straddling = matches.find((m) => m.start >= from && m.start < cut && m.end > cut);
      // A short match may still grow: hold it whole. One as long as the hold is let go.
      if (straddling) {
        const long = straddling.end - straddling.start >= this.hold;
        cut = long ? straddling.end : straddling.start;
        // Reaching the end of what came, it may go on in the next chunk.
        if (long && straddling.end === text.length) growing = straddling.start;
      }
    }
    if (cut <= from) {
      this.from = from;
      return { text: '' };
    }
    const step = applyMatches(text, matches, from, cut, this.tally);
    this.keep(text, cut, growing);
    return step;
  }

  /** Keeps the text from `cut` on, with context before it (from `growing` on, if given). */
  private keep(text: string, cut: number, growing?: number): void {
    const kept = cut - Math.max(0, Math.min(cut - CONTEXT, growing ?? cut));
    this.text = text.slice(cut - kept);
    this.from = kept;
    if (growing !== undefined) this.growing = growing - (cut - kept);
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
