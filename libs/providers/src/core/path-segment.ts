import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

/**
 * A model or deployment name as one segment of a backend URL path. A wildcard backend
 * sends the client's name as it came: encoding keeps `/`, `?` and `#` inside the segment,
 * but a name of dots alone would still be read as `.` or `..` (URL parsers resolve `%2e`
 * too) and move the call to another path of the provider's API, with our credential.
 */
export function pathSegment(name: string): string {
  if (name === '' || name === '.' || name === '..') throw notCarried(name);
  return encodedModelName(name);
}

/**
 * A model name %-encoded. A name with a lone surrogate (`"\ud800"` in the client's JSON)
 * has no UTF-8 to encode: refused as the client's invalid model, not a URIError's 500.
 */
export function encodedModelName(name: string): string {
  try {
    return encodeURIComponent(name);
  } catch {
    throw notCarried(name);
  }
}

function notCarried(name: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `${JSON.stringify(name)} is not a model name a backend URL can carry`,
    { param: 'model' },
  );
}
