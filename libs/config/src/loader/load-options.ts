// Options shared by every entry point that loads a config.

/**
 * What a missing secret does: refuse the file (`error`) or warn and skip the backend until
 * its key appears (`warn`). `not-needed` is for a process that never calls a provider (the split router,
 * whose provider-adapter holds the keys): no key is read, so none is missing, and each
 * API-key backend keeps its header and secretRef with `keyHeldElsewhere` instead of a key.
 */
export type MissingSecretPolicy = 'error' | 'warn' | 'not-needed';

export interface LoadOptions {
  /**
   * Default `error`, right for production. A key the file marks `apiKeyRef.optional` (the
   * quickstart's) is only a warning whatever this says, so the quickstart runs with no keys.
   */
  readonly missingSecrets?: MissingSecretPolicy;
  /** Secrets directory; default `env.AI_GATEWAY_SECRETS_DIR`. */
  readonly secretsDir?: string;
  /** Environment to read secrets from; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** File name used in messages. */
  readonly sourceName?: string;
}

/**
 * A backend call's whole duration (`requestTimeout`): long enough for a long answer or a
 * reasoning model (minutes are common; 60 s cut them off and failed over to pay for them
 * again), the same as the ingress's ROUTER_TIMEOUT_MS and within the pods' grace period.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;
/** A stream's wait for its first event (`firstByteTimeout`); JSON answers are not bound by it. */
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 15_000;
/**
 * The longest a stream may go without an event once its first came (`streamIdleTimeout`).
 * The router sees the translated events only, not a provider's keep-alives (Anthropic's
 * pings), so a model thinking silently between events looks idle: 2 minutes leaves room
 * for that, yet ends a dead stream well before the 5-minute request timeout would.
 */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 120_000;
