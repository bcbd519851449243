import type { JsonObject } from '@aigw/contracts/data-plane';
import type { StreamTail, TailStep } from './stream-tail';

/**
 * OpenRouter's `reasoning_details` (chat messages and stream deltas): the reasoning as
 * entries, beside the flat `reasoning` text. A reasoning.text entry's `text` and a
 * reasoning.summary entry's `summary` are what a reader sees, so they are checked; a
 * reasoning.encrypted entry's `data` is opaque and passes as it came, as do its signature,
 * id, format and index, and entries of any other type.
 */
const READABLE = new Map<unknown, string>([
  ['reasoning.text', 'text'],
  ['reasoning.summary', 'summary'],
]);

/** The field of `entry` holding text a reader sees; undefined for opaque entries. */
function readableField(entry: unknown): string | undefined {
  if (!isObject(entry)) return undefined;
  const field = READABLE.get(entry.type);
  return field !== undefined && typeof entry[field] === 'string' ? field : undefined;
}

/**
 * A message's `reasoning_details` with each readable text checked by `check`: the entries
 * changed (undefined when none did), or the blocking rule.
 */
export function checkDetails(
  details: unknown,
  check: (text: string) => TailStep,
): unknown[] | string | undefined {
  if (!Array.isArray(details)) return undefined;
  let changed: unknown[] | undefined;
  for (const [i, entry] of details.entries()) {
    const field = readableField(entry);
    if (field === undefined) continue;
    const text = (entry as JsonObject)[field] as string;
    if (text === '') continue;
    const step = check(text);
    if (step.blocked) return step.blocked;
    if (step.text !== text) {
      (changed ??= details.slice())[i] = { ...(entry as JsonObject), [field]: step.text };
    }
  }
  return changed;
}

/** What a chunk's entries became: those to send now, or the rule that withheld the choice. */
export interface DetailsStep {
  readonly entries: unknown[];
  readonly blocked?: string;
}

interface HeldEntry {
  readonly key: string;
  readonly tail: StreamTail;
  readonly field: string;
  /** The entry's other fields (type, index, id, format), for the text released later. */
  readonly template: JsonObject;
}

/**
 * One streamed choice's `reasoning_details`: each entry's text (by type and index, as
 * streamed fragments of one entry share them; by type alone without an index) held and
 * released checked, like the flat reasoning text (see StreamTail). Entries stream one after
 * another, so a fragment of another entry, or a signature, releases what the entry before
 * it holds first: a client appending the entries' text in order reads each one whole. An
 * entry whose text is all held is left out of its chunk; one carrying a signature ends its
 * text, so what was held goes out with it.
 */
export class DetailTails {
  private readonly held = new Map<string, HeldEntry>();
  /** The entry whose text came last, and may hold some. */
  private open: HeldEntry | undefined;

  /** `tail` makes the tail of an entry first seen. */
  constructor(private readonly tail: () => StreamTail) {}

  /** A chunk's entries, as they may go now; `end`: the reasoning is over, all of it goes. */
  push(entries: readonly unknown[], end: boolean): DetailsStep {
    const out: unknown[] = [];
    for (const entry of entries) {
      const field = readableField(entry);
      const key = field === undefined ? undefined : keyOf(entry as JsonObject);
      if (this.open && (key ? key !== this.open.key : isSigned(entry))) {
        const blocked = releaseInto(this.open, out);
        this.open = undefined;
        if (blocked) return { entries: out, blocked };
      }
      if (field === undefined || key === undefined) {
        out.push(entry);
        continue;
      }
      const fragment = entry as JsonObject;
      const text = fragment[field] as string;
      const held = this.entryFor(fragment, field, key);
      this.open = held;
      let step = held.tail.push(text);
      const signed = isSigned(fragment);
      if (!step.blocked && (signed || end)) {
        const rest = held.tail.flush();
        step = { text: step.text + rest.text, blocked: rest.blocked };
      }
      if (step.blocked) return { entries: out, blocked: step.blocked };
      // All of its text held, and nothing else to carry: it goes later, with that text.
      if (step.text === '' && text !== '' && !signed) continue;
      out.push(step.text === text ? entry : { ...fragment, [field]: step.text });
    }
    return end ? this.flushInto(out) : { entries: out };
  }

  /** The choice ended: what every entry still holds, checked. */
  flush(): DetailsStep {
    return this.flushInto([]);
  }

  private flushInto(out: unknown[]): DetailsStep {
    for (const held of this.held.values()) {
      const blocked = releaseInto(held, out);
      if (blocked) return { entries: out, blocked };
    }
    return { entries: out };
  }

  private entryFor(fragment: JsonObject, field: string, key: string): HeldEntry {
    let held = this.held.get(key);
    if (!held) {
      const { [field]: _text, signature: _signature, ...template } = fragment;
      this.held.set(key, (held = { key, tail: this.tail(), field, template }));
    }
    return held;
  }
}

/** An entry's type and index; without an index its fragments continue the last of its type. */
function keyOf(entry: JsonObject): string {
  const type = String(entry.type);
  return typeof entry.index === 'number' ? `${type}:${entry.index}` : type;
}

/** What `held` still holds, checked, added to `out`; the blocking rule, if one matched. */
function releaseInto(held: HeldEntry, out: unknown[]): string | undefined {
  const rest = held.tail.flush();
  if (rest.blocked) return rest.blocked;
  if (rest.text !== '') out.push({ ...held.template, [held.field]: rest.text });
  return undefined;
}

function isSigned(entry: unknown): boolean {
  return isObject(entry) && typeof entry.signature === 'string' && entry.signature !== '';
}

/** Whether a delta's entries end a signed block (the text before the signature is final). */
export function signsDetails(details: unknown): boolean {
  return Array.isArray(details) && details.some(isSigned);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
