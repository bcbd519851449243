import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

/** What a client's `Cache-Control` request header allows the response cache to do. */
export interface CacheDirectives {
  /** Answer from the cache if an entry exists (`no-cache` says no: revalidate, i.e. call). */
  readonly lookup: boolean;
  /** Keep this answer for later requests (`no-store` says no, and implies no lookup). */
  readonly store: boolean;
  /** `max-age=N`: an entry stored longer ago than this is not an answer for this client. */
  readonly maxAgeMs?: number;
  /** `only-if-cached`: the stored answer or RFC 9111's 504, never a call to the backend. */
  readonly onlyIfCached?: true;
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
  const only = names.includes('only-if-cached') ? ({ onlyIfCached: true } as const) : {};
  if (names.includes('no-store')) return { lookup: false, store: false, ...only };
  if (names.includes('no-cache')) return { lookup: false, store: true, ...only };
  // RFC 9111's max-age request directive: no answer older than N seconds. `max-age=0`,
  // how many clients spell "not from a cache", is then no lookup at all.
  const maxAge = directives.find(([name]) => name === 'max-age')?.[1];
  const seconds = maxAge !== undefined && /^\d+$/.test(maxAge) ? Number(maxAge) : undefined;
  if (seconds === undefined) return { ...DEFAULT, ...only };
  if (seconds === 0) return { lookup: false, store: true, ...only };
  return { lookup: true, store: true, maxAgeMs: seconds * 1000, ...only };
}

/**
 * Whether a request's `Cache-Control` says `only-if-cached` (RFC 9111 5.2.1.7): answered
 * from the response cache or refused with a 504, on any route, with no call made.
 */
export function onlyIfCached(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  return cacheDirectives(header).onlyIfCached === true;
}

/** The 504 of an `only-if-cached` request with no stored answer (the SDKs not to retry it). */
export function notCached(): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.NotCached,
    'Cache-Control: only-if-cached, and no stored answer to this request',
    { headers: { 'x-should-retry': 'false' } },
  );
}

function pragmaNoCache(pragma: string | string[] | undefined): boolean {
  if (pragma === undefined) return false;
  return (Array.isArray(pragma) ? pragma.join(',') : pragma)
    .split(',')
    .some((token) => token.trim().toLowerCase() === 'no-cache');
}
