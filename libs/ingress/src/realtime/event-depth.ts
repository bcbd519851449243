import { jsonTextNestsDeeperThan } from '@aigw/contracts/data-plane';

/**
 * How deep a client's Realtime event may nest: far past any event of the API (a tool's
 * JSON schema in `session.tools` included), far short of what overflows the stack of the
 * code that reads it (the prompt rules) and writes it again (the model's renaming, masking).
 */
export const MAX_EVENT_DEPTH = 128;

/**
 * Whether a client's text frame, read as JSON, nests objects and arrays deeper than
 * MAX_EVENT_DEPTH (brackets inside strings do not count). An audio frame, with a bracket or
 * two, is passed over by a native scan; only a frame with that many brackets is walked.
 */
export function nestsTooDeep(text: string, max = MAX_EVENT_DEPTH): boolean {
  return jsonTextNestsDeeperThan(text, max);
}
