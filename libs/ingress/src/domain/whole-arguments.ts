const CLOSING_BRACE = 0x7d;

/**
 * Whether a function call's arguments so far are a whole JSON object. No JSON text goes
 * on past a whole value, so no later fragment can belong to it: the call is complete
 * however its backend interleaves parallel calls. Parsed only when the text ends in `}`.
 */
export function isWholeJsonObject(text: string): boolean {
  let end = text.length - 1;
  while (end >= 0 && isJsonSpace(text.charCodeAt(end))) end--;
  if (end < 0 || text.charCodeAt(end) !== CLOSING_BRACE) return false;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

/** Whether a fragment is only JSON whitespace (nothing a whole value could take on). */
export function isBlank(text: string): boolean {
  for (let at = 0; at < text.length; at++) {
    if (!isJsonSpace(text.charCodeAt(at))) return false;
  }
  return true;
}

function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}
