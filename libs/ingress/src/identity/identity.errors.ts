// Rejections of the identity step. Public messages are fixed strings: they never carry
// token content, key ids, issuers or library messages. The precise reason rides along
// as the error's cause, for operators and tests only.
import { MAX_NAME_LENGTH } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

export type RejectionReason =
  | 'missing-token'
  | 'malformed-token'
  | 'unknown-issuer'
  | 'algorithm-not-allowed'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'claims-rejected'
  | 'keys-unavailable'
  | 'provider-not-configured'
  | 'no-tier';

/** Why a caller was turned away; kept out of every response body. */
export class IdentityRejection extends Error {
  constructor(readonly reason: RejectionReason) {
    super(`identity rejected: ${reason}`);
    this.name = 'IdentityRejection';
  }
}

export function unauthenticated(reason: RejectionReason): DataPlaneError {
  const message =
    reason === 'missing-token'
      ? "This endpoint requires a bearer token: send 'Authorization: Bearer <token>'"
      : reason === 'expired'
        ? 'The bearer token has expired'
        : 'The bearer token is not valid';
  return new DataPlaneError(DataPlaneErrorCode.Unauthenticated, message, {
    cause: new IdentityRejection(reason),
  });
}

export function noTierMatched(): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.Forbidden,
    'No service tier matches this request, and no default tier is configured',
    { cause: new IdentityRejection('no-tier') },
  );
}

/** A user identifier longer than events carry: names where it came from, never the value. */
export function userKeyTooLong(source: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `The user identifier (${source}) is longer than ${MAX_NAME_LENGTH} characters`,
  );
}
