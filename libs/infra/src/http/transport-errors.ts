const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/**
 * Whether a failed HTTP call timed out: one of undici's timeouts, a socket's, or an abort
 * with a `TimeoutError` (a call's own deadline).
 */
export function isTimeoutError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  const name = (error as { name?: unknown } | undefined)?.name;
  return (typeof code === 'string' && TIMEOUT_CODES.has(code)) || name === 'TimeoutError';
}
