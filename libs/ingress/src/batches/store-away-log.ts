import type { Logger } from '@aigw/observability';

/** The longest error text logged: a Redis error's text is short, an echoed payload is not. */
const MAX_MESSAGE_CHARS = 300;

/** A call answered 503 because the store of files and batches did not answer. */
export interface StoreAway {
  /** What was called: a file, batch or Gemini file. */
  readonly kind: string;
  /** The call: create, list, retrieve, content, delete, cancel, upload, get. */
  readonly action: string;
  readonly requestId?: string;
  /** The store's own error (connection refused, timeout, OOM...). */
  readonly cause: unknown;
}

/**
 * A store's error as logged: its name, code and text, the text with any URL's user and
 * password cut (a Redis URL carries them) and kept short. The logger masks keys and tokens.
 */
export function storeErrorFields(error: unknown): {
  reason: string;
  code: unknown;
  message?: string;
} {
  if (!(error instanceof Error)) return { reason: 'unknown', code: undefined };
  return {
    reason: error.name,
    code: (error as { code?: unknown }).code,
    message: error.message
      .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1[REDACTED]@')
      .slice(0, MAX_MESSAGE_CHARS),
  };
}

/**
 * One warning per call answered 503 for its store, naming the call and the store's error,
 * so the `store_unavailable` count an operator sees has a cause beside it.
 */
export function logStoreAway(logger: Pick<Logger, 'warn'>, away: StoreAway): void {
  logger.warn(`${away.kind} ${away.action} answered 503: its store of records did not answer`, {
    kind: away.kind,
    action: away.action,
    requestId: away.requestId,
    ...storeErrorFields(away.cause),
  });
}
