import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

/** A file part of a form: its bytes are a view into the request body, never copied. */
export interface FormFile {
  readonly field: string;
  readonly filename: string;
  readonly contentType: string;
  readonly data: Uint8Array;
}

/**
 * A parsed `multipart/form-data` body: text fields in order (repeats kept), and files. A
 * class, so a JSON body of the same shape is never taken for a form.
 */
export class MultipartForm {
  constructor(
    readonly fields: readonly (readonly [name: string, value: string])[],
    readonly files: readonly FormFile[],
  ) {}
}

/** More parts than any OpenAI form has; past it the body is refused, not walked. */
export const MAX_PARTS = 256;
/** A part's headers (disposition, type) fit in far less; a longer run has no end. */
export const MAX_PART_HEADER_BYTES = 16 * 1024;

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

export function invalidForm(message: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message);
}

/** The boundary of a `multipart/form-data` content type, or undefined if it has none. */
export function formBoundary(contentType: string | undefined): string | undefined {
  return boundaryOf(contentType, /^multipart\/form-data\s*(;|$)/i);
}

/**
 * The boundary parameter (RFC 2046: 1-70 characters, quoted or not) of a content type that
 * `accepted` matches, or undefined if it has none.
 */
export function boundaryOf(contentType: string | undefined, accepted: RegExp): string | undefined {
  if (!contentType || !accepted.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}

/**
 * Reads a `multipart/form-data` body (RFC 7578) already held in memory: the edge holds
 * the whole request once (bounded by AI_GATEWAY_MAX_BODY_BYTES) because a failover sends
 * the file again; files are views of that buffer, so the upload is not copied here.
 */
export function parseMultipartForm(body: Buffer, contentType: string | undefined): MultipartForm {
  const boundary = formBoundary(contentType);
  if (boundary === undefined) {
    throw invalidForm("Send the form as 'multipart/form-data' with a boundary");
  }
  const delimiter = Buffer.from(`--${boundary}`);
  const fields: [string, string][] = [];
  const files: FormFile[] = [];
  let at = body.indexOf(delimiter);
  if (at === -1) throw invalidForm('The multipart body has no part (its boundary never appears)');
  for (let parts = 0; ; parts++) {
    at += delimiter.length;
    // `--` after a delimiter closes the form.
    if (body[at] === 0x2d && body[at + 1] === 0x2d) break;
    if (parts >= MAX_PARTS) throw invalidForm(`The form has more than ${MAX_PARTS} parts`);
    if (!body.subarray(at, at + 2).equals(CRLF))
      throw invalidForm('The multipart body is malformed');
    const headersAt = at + 2;
    const headersEnd = body.indexOf(HEADER_END, headersAt);
    if (headersEnd === -1 || headersEnd - headersAt > MAX_PART_HEADER_BYTES) {
      throw invalidForm('A part of the multipart body has no end to its headers');
    }
    const headers = partHeaders(body.toString('utf8', headersAt, headersEnd));
    const contentAt = headersEnd + HEADER_END.length;
    const next = body.indexOf(Buffer.concat([CRLF, delimiter]), contentAt);
    if (next === -1) throw invalidForm('The multipart body ends before its closing boundary');
    const content = body.subarray(contentAt, next);
    const disposition = dispositionOf(headers['content-disposition']);
    if (disposition.filename !== undefined) {
      files.push({
        field: disposition.name,
        filename: disposition.filename,
        contentType: headers['content-type'] || 'application/octet-stream',
        data: content,
      });
    } else {
      fields.push([disposition.name, content.toString('utf8')]);
    }
    at = next + CRLF.length;
  }
  return new MultipartForm(fields, files);
}

export function partHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** `form-data; name="file"; filename="a.wav"`: the name, and the filename of a file part. */
export function dispositionOf(value: string | undefined): { name: string; filename?: string } {
  if (!value || !/^form-data\s*(;|$)/i.test(value)) {
    throw invalidForm("Every part of the form needs 'Content-Disposition: form-data; name=...'");
  }
  const params = new Map<string, string>();
  const pattern = /;\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  for (let match = pattern.exec(value); match; match = pattern.exec(value)) {
    const raw = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3];
    params.set(match[1].toLowerCase(), raw);
  }
  const name = params.get('name');
  if (name === undefined || name === '') throw invalidForm('A part of the form has no name');
  const extended = params.get('filename*');
  const filename = extended !== undefined ? decodeExtended(extended) : params.get('filename');
  return filename === undefined ? { name } : { name, filename };
}

/** RFC 5987 `UTF-8''a%20b.wav`. */
function decodeExtended(value: string): string {
  const quote = value.indexOf("''");
  const encoded = quote === -1 ? value : value.slice(quote + 2);
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}
