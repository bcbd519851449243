import { BudgetRefusal } from '@aigw/budget-core';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type DataPlaneErrorOptions,
} from '@aigw/contracts/data-plane';

/**
 * A budget refusal made after the call was admitted, with the x-ratelimit-* family it
 * lacks taken from what the admission told the call, so it carries both families (tokens
 * and requests) as admission's own refusals do. It comes from the router's per-model gate,
 * which reads only its exhaustion view (the split router opens no budget store) and so
 * names the refusing limit's family alone; the admission's headers, a moment old, are here
 * at no store call. They count the refused call's own hold, released as it fails: the
 * other family's remaining errs low by that call. Any other error passes as it is.
 */
export function withAdmittedFamilies(
  error: DataPlaneError,
  told: Readonly<Record<string, string>> | undefined,
): DataPlaneError {
  if (error.code !== DataPlaneErrorCode.BudgetExceeded || !told) return error;
  const own = error.headers ?? {};
  const extra: Record<string, string> = {};
  let any = false;
  for (const [name, value] of Object.entries(told)) {
    const family = name.endsWith('-requests') ? 'requests' : 'tokens';
    if (own[`x-ratelimit-limit-${family}`] !== undefined) continue;
    extra[name] = value;
    any = true;
  }
  if (!any) return error;
  const options: DataPlaneErrorOptions = {
    upstreamStatus: error.upstreamStatus,
    retryAfterMs: error.retryAfterMs,
    param: error.param,
    upstreamCode: error.upstreamCode,
    headers: { ...extra, ...own },
    cause: error.cause,
  };
  // A refusal keeps its limit kind: the request metrics name it.
  return error instanceof BudgetRefusal
    ? new BudgetRefusal(error.limitKind, error.message, options)
    : new DataPlaneError(error.code, error.message, options);
}
