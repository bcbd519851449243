const UTF8 = new TextDecoder('utf-8', { fatal: true });
// Any byte past ASCII, as Node hands a header value over: one character per byte.
const NON_ASCII_BYTE = /[\x80-\xff]/;

/**
 * The text a client meant by a header value. Node reads header bytes as Latin-1, so a user
 * id that curl, Go or Python's httpx sends as UTF-8 (`café`: c3 a9) arrives as `cafÃ©`,
 * while the same id from a JWT claim, the admin API's URL or the configuration is `café`.
 * Bytes that form UTF-8 are read as UTF-8; any others (a client that wrote Latin-1, as
 * Node's own http client does for `é`) keep the Latin-1 reading, the only one they have.
 */
export function headerText(value: string): string {
  if (!NON_ASCII_BYTE.test(value)) return value;
  try {
    return UTF8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}
