import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

/**
 * A `multipart/form-data` body of text fields then one file, as a backend's `POST /files`
 * reads it. Names and the filename are quoted as RFC 7578 says (percent-escaped). A field
 * sent twice is a 400: the gateway reads the first (a `purpose` of `batch` has its lines
 * checked and rewritten), and a backend that reads the last would take another file.
 */
export function fileUploadForm(
  fields: readonly (readonly [string, string])[],
  file: {
    readonly filename: string;
    readonly contentType: string;
    /** The file's bytes, or its parts in order (a rewritten batch file's lines). */
    readonly data: Uint8Array | readonly Uint8Array[];
  },
): { contentType: string; data: Buffer } {
  const seen = new Set<string>();
  for (const [name] of fields) {
    if (seen.has(name)) {
      throw new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        `'${name.slice(0, 64)}' must be sent once`,
        { param: name.slice(0, 64) },
      );
    }
    seen.add(name);
  }
  const boundary = `aigw-${crypto.randomUUID()}`;
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted(file.filename)}"\r\n` +
        `Content-Type: ${file.contentType.replace(/[\r\n]/g, '')}\r\n\r\n`,
    ),
    ...(Array.isArray(file.data) ? file.data : [file.data]).map((part: Uint8Array) =>
      Buffer.from(part.buffer, part.byteOffset, part.byteLength),
    ),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { contentType: `multipart/form-data; boundary=${boundary}`, data: Buffer.concat(parts) };
}

function quoted(value: string): string {
  return value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
