// Options shared by every entry point that loads a config.

/** What a missing secret does: refuse the file (`error`) or warn and run unauthenticated (`warn`). */
export type MissingSecretPolicy = 'error' | 'warn';

export interface LoadOptions {
  /** Default `error`, right for production; the quickstart uses `warn` so it runs with no keys. */
  readonly missingSecrets?: MissingSecretPolicy;
  /** Secrets directory; default `env.AI_GATEWAY_SECRETS_DIR`. */
  readonly secretsDir?: string;
  /** Environment to read secrets from; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** File name used in messages. */
  readonly sourceName?: string;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 15_000;
