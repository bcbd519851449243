import {
  DataPlaneError,
  DataPlaneErrorCode,
  type RequestOverrides,
} from '@aigw/contracts/data-plane';

type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** The whole call's deadline in milliseconds, failover included. */
export const TIMEOUT_HEADER = 'x-ai-gateway-request-timeout-ms';
/** Calls after the first, at most the route's `failover.retryAttempts`. */
export const RETRIES_HEADER = 'x-ai-gateway-retries';
/** `none` or `false`: the chain's first backend only. */
export const FALLBACK_HEADER = 'x-ai-gateway-fallback';

// Digits only: "1e3", "0x10" or "5.5" would parse to a number a client did not mean.
const WHOLE_NUMBER = /^[0-9]{1,15}$/;

function invalid(header: string, expected: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, `${header} must be ${expected}`, {
    param: header,
  });
}

function single(value: string | string[], header: string, expected: string): string {
  if (Array.isArray(value)) throw invalid(header, `sent once, as ${expected}`);
  return value.trim();
}

function wholeNumber(value: string | string[], header: string, least: number): number {
  const expected = `a whole number of at least ${least}`;
  const text = single(value, header, expected);
  const number = WHOLE_NUMBER.test(text) ? Number(text) : NaN;
  if (!(number >= least)) throw invalid(header, expected);
  return number;
}

/**
 * What the client narrowed with the `x-ai-gateway-*` override headers; undefined when it
 * sent none (three reads, nothing allocated). Values are checked here; how far each may
 * go (the route's retries, the backends' timeouts) is the router's to clamp, as only it
 * knows the chain. A bad value is a 400 naming the header.
 */
export function requestOverrides(headers: IncomingHeaders): RequestOverrides | undefined {
  const timeout = headers[TIMEOUT_HEADER];
  const retries = headers[RETRIES_HEADER];
  const fallback = headers[FALLBACK_HEADER];
  if (timeout === undefined && retries === undefined && fallback === undefined) return undefined;
  return {
    ...(timeout === undefined ? {} : { timeoutMs: wholeNumber(timeout, TIMEOUT_HEADER, 1) }),
    ...(retries === undefined ? {} : { retries: wholeNumber(retries, RETRIES_HEADER, 0) }),
    ...(fallback === undefined ? {} : { fallback: noFallback(fallback) }),
  };
}

function noFallback(value: string | string[]): false {
  const expected = '"none" or "false" (serve from the first backend only)';
  const text = single(value, FALLBACK_HEADER, expected).toLowerCase();
  if (text !== 'none' && text !== 'false') throw invalid(FALLBACK_HEADER, expected);
  return false;
}
