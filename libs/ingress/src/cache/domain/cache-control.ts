/** What a client's `Cache-Control` request header allows the response cache to do. */
export interface CacheDirectives {
  /** Answer from the cache if an entry exists (`no-cache` says no: revalidate, i.e. call). */
  readonly lookup: boolean;
  /** Keep this answer for later requests (`no-store` says no, and implies no lookup). */
  readonly store: boolean;
  /** `max-age=N`: an entry stored longer ago than this is not an answer for this client. */
  readonly maxAgeMs?: number;
}

const DEFAULT: CacheDirectives = { lookup: true, store: true };
const NO_LOOKUP: CacheDirectives = { lookup: false, store: true };

/**
 * The directives of a request's `Cache-Control`; without one, its `Pragma: no-cache` reads
 * as `Cache-Control: no-cache`, as RFC 7234 5.4 required (RFC 9111 5.4 deprecates Pragma,
 * but HTTP/1.0 clients and proxies still send it).
 */
export function cacheDirectives(
  header: string | string[] | undefined,
  pragma?: string | string[],
): CacheDirectives {
  if (header === undefined) return pragmaNoCache(pragma) ? NO_LOOKUP : DEFAULT;
  const directives = (Array.isArray(header) ? header.join(',') : header)
    .toLowerCase()
    .split(',')
    .map((token) => token.split('=').map((part) => part.trim()));
  const names = directives.map(([name]) => name);
  if (names.includes('no-store')) return { lookup: false, store: false };
  if (names.includes('no-cache')) return { lookup: false, store: true };
  // RFC 9111's max-age request directive: no answer older than N seconds. `max-age=0`,
  // how many clients spell "not from a cache", is then no lookup at all.
  const maxAge = directives.find(([name]) => name === 'max-age')?.[1];
  const seconds = maxAge !== undefined && /^\d+$/.test(maxAge) ? Number(maxAge) : undefined;
  if (seconds === undefined) return DEFAULT;
  if (seconds === 0) return { lookup: false, store: true };
  return { lookup: true, store: true, maxAgeMs: seconds * 1000 };
}

function pragmaNoCache(pragma: string | string[] | undefined): boolean {
  if (pragma === undefined) return false;
  return (Array.isArray(pragma) ? pragma.join(',') : pragma)
    .split(',')
    .some((token) => token.trim().toLowerCase() === 'no-cache');
}
