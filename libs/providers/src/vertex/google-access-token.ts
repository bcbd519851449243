import { createHash } from 'node:crypto';
import { request as httpRequest, type Dispatcher } from 'undici';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { readBounded } from '../core/upstream-http';

/** What Vertex AI calls need: full access to the project's Google Cloud APIs. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const METADATA_HOST = 'metadata.google.internal';
const METADATA_TOKEN_PATH = '/computeMetadata/v1/instance/service-accounts/default/token';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** A token is replaced this long before it expires, so no call goes out with a dying one. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** How long a token exchange or metadata request may take before the call fails over. */
const TOKEN_REQUEST_TIMEOUT_MS = 10_000;
/**
 * Token sources kept at once (one per backend and key), least recently used dropped
 * first: well above any configuration's Vertex backends (models times regions), so a
 * source is only dropped for a key rotated away, never by backends called in turn.
 */
const MAX_SOURCES = 4096;

export type TokenSourceKind = 'service_account' | 'metadata';

/** One attempt at minting a token, for `ai_gateway_provider_token_refreshes_total`. */
export interface TokenRefreshEvent {
  readonly backend: string;
  readonly source: TokenSourceKind;
  readonly result: 'ok' | 'failed';
}

export type TokenRefreshListener = (event: TokenRefreshEvent) => void;

interface MintedToken {
  readonly accessToken: string;
  readonly expiresAt: number;
  /**
   * When to start refreshing it: REFRESH_MARGIN_MS before it expires, or halfway through
   * a shorter life (a metadata server hands out its cached token until shortly before it
   * expires), so such a token is not refreshed by every call.
   */
  readonly refreshAt: number;
}

/** The fields of a service-account key file this module reads. */
interface ServiceAccountKey {
  readonly clientEmail: string;
  readonly privateKey: string;
  readonly privateKeyId?: string;
  readonly tokenUri: string;
}

export interface GoogleAccessTokensOptions {
  readonly dispatcher?: Dispatcher;
  readonly onRefresh?: TokenRefreshListener;
  readonly now?: () => number;
  /** GCE_METADATA_HOST, as Google's own client libraries read it (host[:port]). */
  readonly metadataHost?: string;
}

/** A failure to obtain a token: an upstream error the router fails over on. */
function tokenError(backend: string, what: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.UpstreamError, `backend "${backend}": ${what}`);
}

/** Reads a service-account key; the error says what is wrong, never what the key holds. */
export function parseServiceAccountKey(backend: string, json: string): ServiceAccountKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw tokenError(backend, 'the auth.apiKeyRef secret is not a service-account key (not JSON)');
  }
  const key = (parsed ?? {}) as Record<string, unknown>;
  const field = (name: string) => (typeof key[name] === 'string' ? key[name] : undefined);
  const clientEmail = field('client_email');
  const privateKey = field('private_key');
  const tokenUri = field('token_uri') ?? 'https://oauth2.googleapis.com/token';
  if (key.type !== 'service_account' || !clientEmail || !privateKey) {
    throw tokenError(
      backend,
      'the auth.apiKeyRef secret is not a service-account key (needs type service_account, client_email and private_key)',
    );
  }
  if (!/^https?:\/\//.test(tokenUri)) {
    throw tokenError(backend, 'the service-account key has a token_uri that is not an http(s) URL');
  }
  return { clientEmail, privateKey, privateKeyId: field('private_key_id'), tokenUri };
}

/** A token's lifetime from an OAuth2 answer, or why the answer is no token. */
function mintedFrom(body: unknown, now: number): MintedToken | undefined {
  const { access_token: accessToken, expires_in: expiresIn } = (body ?? {}) as Record<
    string,
    unknown
  >;
  if (typeof accessToken !== 'string' || accessToken === '') return undefined;
  const seconds = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : 3600;
  const lifetimeMs = seconds * 1000;
  return {
    accessToken,
    expiresAt: now + lifetimeMs,
    refreshAt: now + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2),
  };
}

/** The OAuth2 error code of a refused exchange ("invalid_grant"), which carries no secret. */
function oauthErrorCode(text: string): string {
  try {
    const code = (JSON.parse(text) as { error?: unknown }).error;
    return typeof code === 'string' && /^[\w.-]{1,64}$/.test(code) ? ` (${code})` : '';
  } catch {
    return '';
  }
}

/**
 * A token source's key: per backend (so refreshes are counted under the backend that
 * made them) and per key digest, so a rotated key gets a token source of its own.
 */
function sourceId(backend: string, serviceAccountKey: string | undefined): string {
  return serviceAccountKey === undefined
    ? `${backend}\0metadata`
    : `${backend}\0${createHash('sha256').update(serviceAccountKey).digest('hex')}`;
}

/** The wait after a failed early refresh before the next, doubling up to the cap. */
const REFRESH_BACKOFF_MS = 5_000;
const REFRESH_BACKOFF_CAP_MS = 60_000;

/**
 * One token source. A token is refreshed from REFRESH_MARGIN_MS before it expires; until
 * it expires the calls keep using it and the refresh runs beside them, so a failed or
 * slow refresh costs no call. A failed early refresh is tried again after a backoff, not
 * by every call. Once the token has expired (or none was minted, or it was refused) the
 * calls wait for a fresh one and fail with it. Either way one refresh is in flight at a
 * time, shared by all the calls that want it (single flight).
 */
class CachedToken {
  private current: MintedToken | undefined;
  private pending: Promise<MintedToken> | undefined;
  private failures = 0;
  private retryAt = 0;

  constructor(
    private readonly mint: () => Promise<MintedToken>,
    private readonly now: () => number,
  ) {}

  async accessToken(): Promise<string> {
    const current = this.current;
    const now = this.now();
    if (current && now < current.expiresAt) {
      if (now >= current.refreshAt && !this.pending && now >= this.retryAt) {
        // Counted by the mint; the failure only delays the next try.
        this.refresh().catch(() => undefined);
      }
      return current.accessToken;
    }
    return (await this.refresh()).accessToken;
  }

  /**
   * Drops `accessToken` if it is still the cached one: the calls it failed all name the
   * same token, so only the first drops it and the next calls share one fresh mint; a
   * late refusal of an older token leaves a newer one alone.
   */
  forget(accessToken: string): void {
    if (this.current?.accessToken === accessToken) this.current = undefined;
  }

  private refresh(): Promise<MintedToken> {
    this.pending ??= this.mint().then(
      (token) => {
        this.current = token;
        this.pending = undefined;
        this.failures = 0;
        this.retryAt = 0;
        return token;
      },
      (error: unknown) => {
        this.pending = undefined;
        const backoff = Math.min(REFRESH_BACKOFF_MS * 2 ** this.failures, REFRESH_BACKOFF_CAP_MS);
        this.failures = Math.min(this.failures + 1, 16);
        this.retryAt = this.now() + backoff;
        throw error;
      },
    );
    return this.pending;
  }
}

/**
 * OAuth2 access tokens for Google Cloud: from a service-account key (a JWT signed with
 * its private key, exchanged at its token_uri) or, without one, from the GCE/GKE
 * metadata server (the instance's service account, or Workload Identity's).
 */
export class GoogleAccessTokens {
  private readonly sources = new Map<string, CachedToken>();
  private readonly now: () => number;
  private readonly metadataHost: string;

  constructor(private readonly options: GoogleAccessTokensOptions = {}) {
    this.now = options.now ?? Date.now;
    this.metadataHost = options.metadataHost || METADATA_HOST;
  }

  /** A token for `backend`: from `serviceAccountKey` (the secret's JSON) if given. */
  accessToken(backend: string, serviceAccountKey: string | undefined): Promise<string> {
    const id = sourceId(backend, serviceAccountKey);
    let source = this.sources.get(id);
    if (source) {
      // Re-inserted: the map's order is the order of last use, oldest first.
      this.sources.delete(id);
      this.sources.set(id, source);
    } else {
      const mint =
        serviceAccountKey === undefined
          ? () => this.counted(backend, 'metadata', () => this.fromMetadata(backend))
          : () =>
              this.counted(backend, 'service_account', () =>
                this.fromServiceAccount(
                  backend,
                  parseServiceAccountKey(backend, serviceAccountKey),
                ),
              );
      source = new CachedToken(mint, this.now);
      if (this.sources.size >= MAX_SOURCES) {
        this.sources.delete(this.sources.keys().next().value as string);
      }
      this.sources.set(id, source);
    }
    return source.accessToken();
  }

  /**
   * Vertex refused `accessToken` (401: revoked, or its key was disabled): the next call
   * for `backend` mints a new one instead of using it until it expires.
   */
  refused(backend: string, serviceAccountKey: string | undefined, accessToken: string): void {
    this.sources.get(sourceId(backend, serviceAccountKey))?.forget(accessToken);
  }

  private async counted(
    backend: string,
    source: TokenSourceKind,
    mint: () => Promise<MintedToken>,
  ): Promise<MintedToken> {
    try {
      const token = await mint();
      this.options.onRefresh?.({ backend, source, result: 'ok' });
      return token;
    } catch (error) {
      this.options.onRefresh?.({ backend, source, result: 'failed' });
      throw error;
    }
  }

  private async fromServiceAccount(backend: string, key: ServiceAccountKey): Promise<MintedToken> {
    const { importPKCS8, SignJWT } = await import('jose');
    let assertion: string;
    try {
      const signingKey = await importPKCS8(key.privateKey, 'RS256');
      const issuedAt = Math.floor(this.now() / 1000);
      assertion = await new SignJWT({ scope: CLOUD_PLATFORM_SCOPE })
        .setProtectedHeader({
          alg: 'RS256',
          typ: 'JWT',
          ...(key.privateKeyId ? { kid: key.privateKeyId } : {}),
        })
        .setIssuer(key.clientEmail)
        .setAudience(key.tokenUri)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + 3600)
        .sign(signingKey);
    } catch {
      throw tokenError(backend, "the service-account key's private_key is not an RSA key in PEM");
    }
    const where = `the service-account token exchange at ${new URL(key.tokenUri).host}`;
    const form = new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion });
    return this.fetchToken(backend, where, key.tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  }

  private fromMetadata(backend: string): Promise<MintedToken> {
    const where = `the Google metadata server (${this.metadataHost})`;
    // Asking for the scope: Cloud Run, App Engine and Cloud Functions then mint a
    // cloud-platform token. A GCE VM ignores it (its token has the instance's access
    // scopes): one created with the narrower defaults still gets a token Vertex refuses.
    const url = `http://${this.metadataHost}${METADATA_TOKEN_PATH}?scopes=${encodeURIComponent(CLOUD_PLATFORM_SCOPE)}`;
    return this.fetchToken(backend, where, url, {
      method: 'GET',
      headers: { 'metadata-flavor': 'Google' },
    });
  }

  private async fetchToken(
    backend: string,
    where: string,
    url: string,
    init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  ): Promise<MintedToken> {
    let response: Dispatcher.ResponseData;
    try {
      response = await httpRequest(url, {
        ...init,
        ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
        signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw tokenError(
        backend,
        `${where} is unreachable${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    }
    const text = await readBounded(response.body, 64 * 1024);
    if (response.statusCode >= 400) {
      throw tokenError(
        backend,
        `${where} refused the token request with ${response.statusCode}${oauthErrorCode(text)}`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const token = mintedFrom(body, this.now());
    if (!token) throw tokenError(backend, `${where} answered without an access token`);
    return token;
  }
}
