import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

/**
 * A model or deployment name as one segment of a backend URL path. A wildcard backend
 * sends the client's name as it came: encoding keeps `/`, `?` and `#` inside the segment,
 * but a name of dots alone would still be read as `.` or `..` (URL parsers resolve `%2e`
 * too) and move the call to another path of the provider's API, with our credential.
 */
export function pathSegment(name: string): string {
  if (name === '' || name === '.' || name === '..') {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `"${name}" is not a model name a backend URL can carry`,
      { param: 'model' },
    );
  }
  return encodeURIComponent(name);
}
