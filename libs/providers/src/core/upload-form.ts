import type { JsonObject, Upload } from '@aigw/contracts/data-plane';

/**
 * The upstream form: every text field as the client sent it (a list as that many fields
 * of its name), `model` the served one, then the files in their order. One buffer: the
 * files are copied once per attempt, into the body the backend reads.
 */
export function uploadForm(
  body: JsonObject,
  model: string,
  uploads: readonly Upload[],
): { contentType: string; body: Buffer } {
  const boundary = `aigw-${crypto.randomUUID()}`;
  const parts: Buffer[] = [];
  const field = (name: string, value: string) =>
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`,
      ),
    );
  field('model', model);
  for (const [name, value] of Object.entries(body)) {
    if (name === 'model') continue;
    // The edge keeps a form's fields as strings (a count as a number, `stream` as a
    // boolean), a repeated one as a list of them.
    for (const item of [value].flat()) {
      if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') {
        field(name, String(item));
      }
    }
  }
  for (const upload of uploads) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(upload.field)}"; ` +
          `filename="${quoted(upload.filename)}"\r\nContent-Type: ${upload.contentType.replace(/[\r\n]/g, '')}\r\n\r\n`,
      ),
      Buffer.from(upload.data.buffer, upload.data.byteOffset, upload.data.byteLength),
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(parts) };
}

/** A name as a quoted-string of a form part's header (RFC 7578 escapes by percent). */
function quoted(value: string): string {
  return value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
