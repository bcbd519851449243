/**
 * How deeply a request's or an answer's arrays and objects may nest (the body itself is
 * level 1). Real bodies, tool schemas included, stay far below it; past it, code that
 * walks one (token estimates, provider translations, JSON.stringify) could exhaust the
 * stack. The edge refuses deeper requests; the provider adapters, deeper answers.
 */
export const MAX_BODY_DEPTH = 64;

/**
 * Whether `value` (parsed JSON) nests arrays or objects deeper than `limit` levels. It stops
 * descending past the limit, so it recurses at most `limit + 1` deep however deep the value.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  return value !== null && typeof value === 'object' && deeper(value, 1, limit);
}

function deeper(node: object, depth: number, limit: number): boolean {
  if (depth > limit) return true;
  if (Array.isArray(node)) {
    for (const child of node as unknown[]) {
      if (child !== null && typeof child === 'object' && deeper(child, depth + 1, limit)) {
        return true;
      }
    }
    return false;
  }
  // Parsed JSON: plain objects whose keys are all their own.
  for (const key in node) {
    const child = (node as Record<string, unknown>)[key];
    if (child !== null && typeof child === 'object' && deeper(child, depth + 1, limit)) {
      return true;
    }
  }
  return false;
}

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/** Whether `text` holds more than `max` opening brackets, `[` and `{` alike (native scans). */
function bracketsPast(text: string, max: number): boolean {
  let count = 0;
  for (const bracket of ['[', '{']) {
    for (let at = text.indexOf(bracket); at !== -1; at = text.indexOf(bracket, at + 1)) {
      if (++count > max) return true;
    }
  }
  return false;
}

/**
 * Whether JSON text (parsed or not yet) nests objects and arrays deeper than `limit` levels;
 * brackets inside strings do not count. Text with no more brackets than that is passed over
 * by native scans; only text with more is walked, once, without recursion.
 */
export function jsonTextNestsDeeperThan(text: string, limit: number): boolean {
  if (!bracketsPast(text, limit)) return false;
  let depth = 0;
  let inString = false;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (inString) {
      if (code === BACKSLASH) at++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      if (++depth > limit) return true;
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) depth--;
  }
  return false;
}
