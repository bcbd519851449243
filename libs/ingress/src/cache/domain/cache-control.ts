/** What a client's `Cache-Control` request header allows the response cache to do. */
export interface CacheDirectives {
  /** Answer from the cache if an entry exists (`no-cache` says no: revalidate, i.e. call). */
  readonly lookup: boolean;
  /** Keep this answer for later requests (`no-store` says no, and implies no lookup). */
  readonly store: boolean;
}

const DEFAULT: CacheDirectives = { lookup: true, store: true };

export function cacheDirectives(header: string | string[] | undefined): CacheDirectives {
  if (header === undefined) return DEFAULT;
  const tokens = (Array.isArray(header) ? header.join(',') : header)
    .toLowerCase()
    .split(',')
    .map((token) => token.trim().split('=')[0]);
  if (tokens.includes('no-store')) return { lookup: false, store: false };
  // `max-age=0` is how many clients spell "not from a cache".
  const fresh =
    tokens.includes('no-cache') || /(^|,)\s*max-age\s*=\s*0\s*(,|$)/i.test(String(header));
  return fresh ? { lookup: false, store: true } : DEFAULT;
}
