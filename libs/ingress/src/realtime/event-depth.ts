/**
 * How deep a client's Realtime event may nest: far past any event of the API (a tool's
 * JSON schema in `session.tools` included), far short of what overflows the stack of the
 * code that reads it (the prompt rules) and writes it again (the model's renaming, masking).
 */
export const MAX_EVENT_DEPTH = 128;

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
 * Whether a client's text frame, read as JSON, nests objects and arrays deeper than
 * MAX_EVENT_DEPTH (brackets inside strings do not count). An audio frame, with a bracket or
 * two, is passed over by a native scan; only a frame with that many brackets is walked.
 */
export function nestsTooDeep(text: string, max = MAX_EVENT_DEPTH): boolean {
  if (!bracketsPast(text, max)) return false;
  let depth = 0;
  let inString = false;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (inString) {
      if (code === BACKSLASH) at++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) depth--;
  }
  return false;
}
