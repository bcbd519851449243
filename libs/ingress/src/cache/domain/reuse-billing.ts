import type { ServerToolRequests, TokenUsage } from '@aigw/contracts/data-plane';

/**
 * What a caller is billed for an answer it got without a provider call of its own (a
 * cache hit, or a deduplicated follower): `none` (default), `full` (the tokens and server
 * tool runs of the original answer, as if served), or a fraction of them. Read from
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

/**
 * What an answer held besides its input and output tokens, billed in the same share: the
 * parts of those tokens priced apart, and the measures some models are billed by instead
 * (a cached rerank's searches, Vertex embeddings' characters, images). Cache reads and
 * writes are not: the reuse made no provider call to read or write a cache.
 */
const SHARED_COUNTS = [
  'audioInputTokens',
  'audioOutputTokens',
  'imageInputTokens',
  'imageOutputTokens',
  'characters',
  'images',
  'searches',
] as const;

/**
 * The server tool runs (Anthropic's web searches, billed per search) a reused answer bills,
 * in the same share as its tokens: the original call's searches are part of its price.
 */
function sharedServerToolRequests(
  runs: ServerToolRequests | undefined,
  share: (count: number) => number,
): ServerToolRequests | undefined {
  if (runs === undefined) return undefined;
  const shared: Partial<Record<keyof ServerToolRequests, number>> = {};
  let any = false;
  for (const [tool, count] of Object.entries(runs) as [keyof ServerToolRequests, number][]) {
    const billed = share(count);
    if (billed <= 0) continue;
    shared[tool] = billed;
    any = true;
  }
  return any ? shared : undefined;
}

/** The token counts (and server tool runs) a reused answer bills to its caller. */
export function billedUsage(billing: ReuseBilling, original: TokenUsage): TokenUsage {
  switch (billing.kind) {
    case 'none':
      return { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, source: original.source };
    case 'share': {
      const share = (count: number): number => Math.ceil(count * billing.fraction);
      const usage: { -readonly [K in keyof TokenUsage]: TokenUsage[K] } = {
        inputTokens: share(original.inputTokens),
        outputTokens: share(original.outputTokens),
        cachedInputTokens: 0,
        source: original.source,
      };
      for (const key of SHARED_COUNTS) {
        const count = original[key];
        if (count !== undefined) usage[key] = share(count);
      }
      // Seconds of audio are not whole units: shared as they are.
      if (original.audioSeconds !== undefined) {
        usage.audioSeconds = original.audioSeconds * billing.fraction;
      }
      if (original.imageVariant !== undefined) usage.imageVariant = original.imageVariant;
      const runs = sharedServerToolRequests(original.serverToolRequests, share);
      if (runs !== undefined) usage.serverToolRequests = runs;
      return usage;
    }
  }
}
