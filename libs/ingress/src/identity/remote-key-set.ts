// One identity provider's signing keys, fetched from its JWKS URI and kept in memory.
import {
  createRemoteJWKSet,
  customFetch,
  type FetchImplementation,
  type JWTVerifyGetKey,
  type RemoteJWKSetOptions,
} from 'jose';

export interface KeySetTiming {
  /**
   * jose `cooldownDuration`: after a successful fetch, a token with an unknown `kid`
   * triggers no new fetch for this long. This is the refetch floor while the provider
   * answers: a flood of made-up key ids costs at most one fetch per window.
   */
  readonly cooldownMs: number;
  /**
   * Our floor between any two fetch attempts, failed ones included. jose's cooldown
   * counts from the last success only, so without this a provider that is down would be
   * hammered by every request carrying an unknown `kid`.
   */
  readonly minAttemptIntervalMs: number;
  /**
   * Keys older than this are refreshed in the background, driven by traffic, while the
   * cached ones keep serving: removed (revoked) keys stop verifying within about this
   * long, and no request ever waits on the provider for a routine refresh.
   */
  readonly refreshIntervalMs: number;
  /** jose `timeoutDuration` for one fetch. */
  readonly fetchTimeoutMs: number;
}

export const DEFAULT_KEY_SET_TIMING: KeySetTiming = {
  cooldownMs: 30_000,
  minAttemptIntervalMs: 5_000,
  refreshIntervalMs: 5 * 60_000,
  fetchTimeoutMs: 3_000,
};

/**
 * How one fetch of the key set ended (a metric label): `ok` (a 200 holding a key set),
 * `timeout`, `unreachable` (the connection failed) or `bad_response` (any other answer).
 */
export type KeyFetchResult = 'ok' | 'timeout' | 'unreachable' | 'bad_response';

export interface KeySetHooks {
  readonly now?: () => number;
  /**
   * Hears every fetch made, the background refreshes' too: while those fail the cached
   * keys go on verifying and no request is refused, so this is how an operator knows.
   * `jwksHost` is the key server's host (and port) from the URI, without path or query:
   * which provider's keys, where one of several fails while the others answer.
   */
  readonly onFetch?: (result: KeyFetchResult, jwksHost: string) => void;
}

/**
 * The most of a key set read: real ones are a few KB (a handful of keys); past this the
 * answer is refused unread rather than held in memory whole.
 */
export const MAX_KEY_SET_BYTES = 1024 * 1024;

/** Thrown in place of a fetch that the attempt floor refused. */
export class FetchFloorError extends Error {
  constructor() {
    super('JWKS refetch refused by the attempt floor');
  }
}

/**
 * `createRemoteJWKSet` with the cache policy we want on the request path: keys never
 * expire inside jose (`cacheMaxAge: Infinity`, so a request only waits for the very
 * first fetch or for an unknown `kid` past the cooldown); freshness comes from our
 * background refresh instead.
 */
export class RemoteKeySet {
  readonly getKey: JWTVerifyGetKey;
  private readonly reload: () => Promise<void>;
  private readonly isReloading: () => boolean;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastSuccessAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly reportFetch: (result: KeyFetchResult) => void;

  constructor(
    readonly uri: string,
    private readonly timing: KeySetTiming = DEFAULT_KEY_SET_TIMING,
    hooks: KeySetHooks = {},
  ) {
    this.now = hooks.now ?? Date.now;
    const { onFetch } = hooks;
    const jwksHost = new URL(uri).host;
    this.reportFetch = onFetch ? (result) => onFetch(result, jwksHost) : () => undefined;
    const options: RemoteJWKSetOptions = {
      cooldownDuration: timing.cooldownMs,
      cacheMaxAge: Number.POSITIVE_INFINITY,
      timeoutDuration: timing.fetchTimeoutMs,
      [customFetch]: this.gatedFetch,
    };
    const remote = createRemoteJWKSet(new URL(uri), options);
    this.getKey = remote;
    this.reload = () => remote.reload();
    this.isReloading = () => remote.reloading;
  }

  /** Starts a background refresh when the keys are due for one; never waits for it. */
  refreshIfStale(): void {
    const now = this.now();
    if (now - this.lastSuccessAt < this.timing.refreshIntervalMs) return;
    if (this.lastSuccessAt === Number.NEGATIVE_INFINITY) return; // the first fetch is jose's
    if (now - this.lastAttemptAt < this.timing.minAttemptIntervalMs || this.isReloading()) return;
    // A failed refresh keeps the old keys; the next request after the floor retries.
    this.reload().catch(() => undefined);
  }

  private readonly gatedFetch: FetchImplementation = async (url, init) => {
    const now = this.now();
    if (now - this.lastAttemptAt < this.timing.minAttemptIntervalMs) throw new FetchFloorError();
    this.lastAttemptAt = now;
    let response: Response;
    let body: string | undefined;
    try {
      response = await fetch(url, init);
      // Read here, under jose's timeout signal, to tell a key set from a 200 that is none.
      if (response.status === 200) body = await boundedText(response, MAX_KEY_SET_BYTES);
    } catch (error) {
      this.reportFetch(isTimeout(error) ? 'timeout' : 'unreachable');
      throw error;
    }
    if (body === undefined) {
      this.reportFetch('bad_response');
      // jose refuses any status but 200: an oversized key set goes no further than this.
      return response.status === 200 ? new Response(null, { status: 502 }) : response;
    }
    // Only a key set is a success: a maintenance page answered 200 must not put the
    // next refresh off by a whole interval.
    const ok = holdsKeySet(body);
    if (ok) this.lastSuccessAt = this.now();
    this.reportFetch(ok ? 'ok' : 'bad_response');
    return new Response(body, { status: 200 });
  };
}

/** The body as text, or undefined once it passes `maxBytes` (the rest is not read). */
async function boundedText(response: Response, maxBytes: number): Promise<string | undefined> {
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.body) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** jose aborts a fetch past `timeoutDuration` with the signal's TimeoutError. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

/** What jose takes for a key set: an object whose `keys` is a list of objects. */
function holdsKeySet(body: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body);
    if (!isObject(parsed)) return false;
    const keys = (parsed as { keys?: unknown }).keys;
    return Array.isArray(keys) && keys.every(isObject);
  } catch {
    return false;
  }
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
