import { type ValidationIssue } from '../contracts.errors';

/** The `error.type` values OpenAI clients branch on. */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'server_error'
  | 'api_error'
  // The gateway's own, for failures OpenAI has no word for (SDKs branch on the status).
  | 'service_unavailable'
  | 'timeout_error'
  | 'upstream_error'
  | 'internal_error';

/** The error body every OpenAI-compatible endpoint returns. */
export interface OpenAiErrorBody {
  error: {
    message: string;
    type: OpenAiErrorType;
    code: string | null;
    param: string | null;
  };
}

/** The HTTP status that usually goes with each error type. */
export const OPENAI_ERROR_STATUS: Readonly<Record<OpenAiErrorType, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  rate_limit_error: 429,
  insufficient_quota: 429,
  server_error: 500,
  api_error: 502,
  service_unavailable: 503,
  timeout_error: 504,
  upstream_error: 502,
  internal_error: 500,
};

export function openAiError(
  message: string,
  options: { type?: OpenAiErrorType; code?: string | null; param?: string | null } = {},
): OpenAiErrorBody {
  return {
    error: {
      message,
      type: options.type ?? 'invalid_request_error',
      code: options.code ?? null,
      param: options.param ?? null,
    },
  };
}

/** A 400 body from validation issues: every problem in the message, the first as `param`. */
export function openAiValidationError(issues: readonly ValidationIssue[]): OpenAiErrorBody {
  const shown = issues.slice(0, 5).map((i) => i.message);
  if (issues.length > shown.length) shown.push(`and ${issues.length - shown.length} more`);
  return openAiError(`Invalid request: ${shown.join('; ')}`, {
    type: 'invalid_request_error',
    code: 'invalid_request_body',
    param: issues[0]?.path || null,
  });
}
