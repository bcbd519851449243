import { randomBytes } from 'node:crypto';
import {
  callerBudgetKey,
  DataPlaneError,
  DataPlaneErrorCode,
  type CallerContext,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import { digestOf, type ClientSecretStore } from './client-secret-store';

/** OpenAI's ephemeral keys start so; a bearer token that does is taken as one of ours. */
const CLIENT_SECRET_PREFIX = 'ek_';

/** What a client secret lets its holder do: open sessions of one model as one caller. */
export interface ClientSecretGrant {
  readonly model: string;
  /** The caller that minted it: its identity, tier and budget key. */
  readonly caller: CallerContext;
  /** Its tier's allowedModels when it was minted; empty = any model. */
  readonly allowedModels: readonly string[];
  /** The session configuration applied to each session (a `session.update`'s `session`). */
  readonly session: JsonObject;
  /** When the secret stops opening sessions (Unix seconds), as OpenAI's `expires_at`. */
  readonly expiresAt: number;
}

/** Why a secret opened no session (a metric label's value, never the secret). */
export type ClientSecretRejection = 'unknown' | 'expired' | 'wrong_model';

export type Redemption =
  | { readonly grant: ClientSecretGrant; readonly rejected?: undefined }
  | { readonly rejected: ClientSecretRejection; readonly grant?: undefined };

const STORE_RETRY_AFTER_MS = 1_000;

/** The store did not answer: the gateway's trouble, so a 503 to retry, not a 401. */
function secretStoreUnavailable(cause: unknown): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.NoBackendAvailable,
    'The gateway could not reach its store of realtime client secrets. Try again shortly.',
    {
      upstreamCode: 'client_secret_store_unavailable',
      retryAfterMs: STORE_RETRY_AFTER_MS,
      cause,
    },
  );
}

/** A 401 as other Realtime authentication failures get, its message naming no secret. */
export function clientSecretRefusal(reason: ClientSecretRejection): DataPlaneError {
  const message =
    reason === 'wrong_model'
      ? 'The client secret was issued for another model: connect with the model it was created for'
      : 'The client secret is not valid or has expired: create a new one';
  return new DataPlaneError(DataPlaneErrorCode.Unauthenticated, message);
}

/** A mint by a caller whose credential has expired: the 401 an expired token gets. */
function credentialExpired(): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.Unauthenticated,
    'The credential presented has expired: authenticate again before creating a client secret',
  );
}

function decodeGrant(text: string): ClientSecretGrant | undefined {
  try {
    const grant = JSON.parse(text) as ClientSecretGrant;
    return typeof grant.model === 'string' &&
      typeof grant.expiresAt === 'number' &&
      typeof grant.caller?.userKey === 'string'
      ? grant
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Gateway ephemeral keys for browser Realtime clients. A secret is an opaque random value
 * (`ek_` + 256 random bits), not a signed token: its grant (caller, model, session) stays
 * in the store, out of the browser's reach; no signing key has to be shared by every
 * replica; and deleting its record revokes it before it expires. Refused once expired
 * whichever replica is asked. Never logged; callers see it once, in the mint's answer.
 */
export class RealtimeClientSecrets {
  constructor(
    private readonly store: ClientSecretStore,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A new secret for `grant`, good for `seconds` from now but not past `notAfter` (Unix
   * seconds: when the credential of the caller minting it expires, if known), so a secret
   * does not keep a caller whose JWT has expired in sessions.
   */
  async mint(
    grant: Omit<ClientSecretGrant, 'expiresAt'>,
    seconds: number,
    notAfter?: number,
  ): Promise<{ readonly value: string; readonly grant: ClientSecretGrant }> {
    const value = CLIENT_SECRET_PREFIX + randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = Math.min(Math.floor(now / 1000) + seconds, notAfter ?? Infinity);
    const capped = notAfter !== undefined && notAfter * 1000 < now + seconds * 1000;
    const ttlMs = capped ? expiresAt * 1000 - now : seconds * 1000;
    // A JWT accepted within the clock tolerance past its `exp`: nothing left to grant.
    if (ttlMs <= 0) throw credentialExpired();
    const kept: ClientSecretGrant = { ...grant, expiresAt };
    try {
      await this.store.put(
        digestOf(value),
        JSON.stringify(kept),
        ttlMs,
        callerBudgetKey(grant.caller),
      );
    } catch (error) {
      throw secretStoreUnavailable(error);
    }
    return { value, grant: kept };
  }

  /**
   * The grant of `secret` for a session of `model` (undefined: the session names none and
   * takes the grant's), or why it opens none.
   */
  async redeem(secret: string, model: string | undefined): Promise<Redemption> {
    let text: string | undefined;
    try {
      text = await this.store.get(digestOf(secret));
    } catch (error) {
      throw secretStoreUnavailable(error);
    }
    const grant = text === undefined ? undefined : decodeGrant(text);
    if (!grant) return { rejected: 'unknown' };
    if (grant.expiresAt * 1000 <= this.now()) return { rejected: 'expired' };
    if (model !== undefined && model !== grant.model) return { rejected: 'wrong_model' };
    return { grant };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
