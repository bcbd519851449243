import { promptText } from '@aigw/contracts/data-plane';

// The prompt's text is read twice for a request on a route with blockPatterns: by the
// guard in prepare and by admission's token estimate, on the same body object (the edge
// never edits a body in place: redaction and the Responses API make new ones). The last
// body's text is kept so the second read is a comparison (~0.5 µs a request otherwise).
// One entry, not a WeakMap: another request in between only costs a rebuild.
let lastBody: object | undefined;
let lastText = '';

/** promptText(body), built once when asked again for the same body object in a row. */
export function promptTextOnce(body: Record<string, unknown>): string {
  if (body === lastBody) return lastText;
  lastText = promptText(body);
  lastBody = body;
  return lastText;
}
