import type { TokenUsage } from '@aigw/contracts/data-plane';

/**
 * What a caller is billed for an answer it got without a provider call of its own (a
 * cache hit, or a deduplicated follower): `none` (default), `full` (the tokens of the
 * original answer, as if served), or a fraction of them. Read from
 * `AI_GATEWAY_REUSE_BILLING`.
 */
export type ReuseBilling =
  { readonly kind: 'none' } | { readonly kind: 'share'; readonly fraction: number };

export const NO_REUSE_BILLING: ReuseBilling = { kind: 'none' };

export class ReuseBillingError extends Error {
  override name = 'ReuseBillingError';
}

export function parseReuseBilling(raw: string | undefined): ReuseBilling {
  const value = raw?.trim().toLowerCase();
  if (!value || value === 'none') return NO_REUSE_BILLING;
  if (value === 'full') return { kind: 'share', fraction: 1 };
  const fraction = Number(value);
  if (!Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new ReuseBillingError(
      `AI_GATEWAY_REUSE_BILLING must be "none", "full" or a fraction between 0 and 1, got "${raw}"`,
    );
  }
  return fraction === 0 ? NO_REUSE_BILLING : { kind: 'share', fraction };
}

/** Whether a reused answer is billed at all: then it is admitted against budgets first. */
export function billsReuse(billing: ReuseBilling): boolean {
  return billing.kind === 'share';
}

/** The token counts a reused answer bills to its caller. */
export function billedUsage(billing: ReuseBilling, original: TokenUsage): TokenUsage {
  switch (billing.kind) {
    case 'none':
      return { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, source: original.source };
    case 'share':
      return {
        inputTokens: Math.ceil(original.inputTokens * billing.fraction),
        outputTokens: Math.ceil(original.outputTokens * billing.fraction),
        cachedInputTokens: 0,
        source: original.source,
      };
  }
}
