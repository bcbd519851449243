export { CallerIdentifier, type CallerIdentity } from './caller-identifier';
export {
  identityConfigProblems,
  warnIdentityConfigProblems,
  type IdentityProblemsSink,
} from './identity-check';
export { DEFAULT_TIER_ENV, identityOptionsFromEnv, type IdentityOptions } from './identity-options';
export { IdentityRejection, type RejectionReason } from './identity.errors';
export { ALLOWED_JWT_ALGORITHMS, CLOCK_TOLERANCE_SECONDS } from './jwt-policy';
export { DEFAULT_KEY_SET_TIMING, type KeySetTiming } from './remote-key-set';
