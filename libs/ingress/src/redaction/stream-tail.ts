import type { RedactMatch, RedactionTally, Redactor } from './redactor';

/** What a step releases: text safe to send, and the rule that withheld the rest, if one did. */
export interface TailStep {
  readonly text: string;
  readonly blocked?: string;
}

/** Characters of released text kept before the held text, for the rules' look-behinds. */
const CONTEXT = 16;

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
 * A match longer than `hold` is released when it reaches that length: what follows it is
 * no longer seen as part of it, so `hold` must exceed the longest secret to catch.
 */
export class StreamTail {
  /** Released context (the first `from` characters), then the held text. */
  private text = '';
  private from = 0;

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
    const matches = this.scanner.matches(text, this.from);
    let cut = final ? text.length : text.length - this.hold;
    if (!final) {
      const straddling = matches.find((m) => m.start < cut && m.end > cut);
      // A short match may still grow: hold it whole. One as long as the hold is let go.
      if (straddling) {
        cut = straddling.end - straddling.start >= this.hold ? straddling.end : straddling.start;
      }
    }
    if (cut <= this.from) return { text: '' };
    const step = applyMatches(text, matches, this.from, cut, this.tally);
    const kept = Math.min(CONTEXT, cut);
    this.text = text.slice(cut - kept);
    this.from = kept;
    return step;
  }
}
