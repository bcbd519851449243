import { codeForStatus, DataPlaneError } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';
import { streamInterrupted } from './upstream-http';

/**
 * The HTTP status each in-band error type stands for: Anthropic's documented types and
 * OpenAI's (the names both use agree on the status).
 */
const STATUS_OF_ERROR_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  insufficient_quota: 429,
  api_error: 500,
  server_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** OpenAI's error codes that say more than the type beside them. */
const STATUS_OF_ERROR_CODE: Readonly<Record<string, number>> = {
  rate_limit_exceeded: 429,
  insufficient_quota: 429,
  context_length_exceeded: 400,
  server_error: 500,
};

const isHttpErrorStatus = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= 400 && (value as number) <= 599;

/** Own keys only: a name like the object's prototype (constructor) is unknown. */
const lookUp = (table: Readonly<Record<string, number>>, key: unknown): number | undefined =>
  typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;

/**
 * The HTTP status an error object a backend sent inside a 200 stream means: its numeric
 * `code` where it gives one (Google's, vLLM's, OpenRouter's), else its string `code`
 * (OpenAI's rate_limit_exceeded), else its `type` (Anthropic's and OpenAI's); 500 when
 * none of them is known.
 */
function reportedErrorStatus(error: unknown): number {
  if (!isJsonObject(error)) return 500;
  if (isHttpErrorStatus(error.code)) return error.code;
  return (
    lookUp(STATUS_OF_ERROR_CODE, error.code) ?? lookUp(STATUS_OF_ERROR_TYPE, error.type) ?? 500
  );
}

/**
 * An error a backend reported in its stream before any of the answer went out. Nothing of
 * the answer exists, so it means what the same error as an HTTP status would: a rate limit
 * the router fails over on and the client gets as a 429. `what` ends "reported ...".
 */
export function errorBeforeAnswer(
  backendName: string,
  error: unknown,
  what: (status: number) => string,
): DataPlaneError {
  const status = reportedErrorStatus(error);
  return new DataPlaneError(
    codeForStatus(status),
    `backend "${backendName}" reported ${what(status)}`,
    {
      upstreamStatus: status,
    },
  );
}

/**
 * An error object in a stream (`data: {"error": {...}}` on a 200, or an error event).
 * Before any of the answer went out it means what its code or type says (a rate limit is
 * a 429 the router fails over on); after, the answer was cut.
 */
export function reportedStreamError(
  backendName: string,
  error: unknown,
  answerStarted: boolean,
): DataPlaneError {
  if (answerStarted) return streamInterrupted(backendName, 'reported an error mid-stream');
  return errorBeforeAnswer(
    backendName,
    error,
    (status) => `a ${status} error before its answer started`,
  );
}
