import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';

const ENCODING_FORMATS: readonly unknown[] = ['float', 'base64'];

/** A value as the error repeats it: JSON unless a string, cut short (a client may send anything). */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? typeof value);
  return text.slice(0, 64);
}

/**
 * An embeddings request's `encoding_format`: `float`, `base64` or absent, refused otherwise
 * as OpenAI refuses it. Left to the backends, an unknown value was read as `float` by the
 * gateway's own adapters and passed on to OpenAI-format ones, so one request got vectors
 * from one backend and a 400 from another.
 */
export function checkEncodingFormat(body: JsonObject): void {
  const format = body.encoding_format;
  if (format === undefined || format === null || ENCODING_FORMATS.includes(format)) return;
  throw new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `Invalid value for 'encoding_format' = ${shown(format)}. Supported values: ['float', 'base64'].`,
    { param: 'encoding_format' },
  );
}
