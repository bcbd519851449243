import { createHash } from 'node:crypto';
import {
  dollarsAt,
  modelPrice,
  routeOfBackend,
  weightedTokens,
  type GatewayConfig,
  type ModelPricing,
} from '@aigw/config';
import { createTokenUsageRecorded, UsageSource, type TokenUsageRecorded } from '@aigw/contracts';
import { recordBudgetKey } from './batch-budget-key';
import type { BatchUsage } from './batch-jsonl';
import { recordUserId, type HeldRecord } from './held-objects';

/** OpenAI and Azure OpenAI bill batch requests at half their synchronous price. */
export const DEFAULT_BATCH_PRICE_FACTOR = 0.5;

/**
 * The event id of a batch's usage: a name-based UUID (version 5's layout) of its gateway
 * id, the same on every replica and every billing of it, so budgets (which settle an event
 * id once) and analytics see a second billing of one batch (a claim that lapsed, or was
 * given back after the event went out) as the duplicate it is.
 */
export function batchEventId(batchId: string): string {
  const bytes = createHash('sha1').update(`aigw batch usage\n${batchId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The usage event of a finished batch: everything its output file says it consumed, for
 * the batch's owner, priced at the model's price times `priceFactor` (the batch
 * discount), with operation `batch`. Budget-weighted tokens are not discounted: a token
 * budget counts tokens. The batch's gateway id is its request id, and its event id comes
 * from it (`batchEventId`), so a replay of the event is recognisably the same batch.
 */
export function batchUsageEvent(
  config: GatewayConfig,
  batch: HeldRecord,
  usage: BatchUsage,
  priceFactor: number,
): { event: TokenUsageRecorded; dollars: number; priced: boolean } {
  const route = routeOfBackend(config.routes, batch.backend, batch.route);
  const price = route ? modelPrice(route, batch.upstreamModel, batch.provider) : undefined;
  const tokens = {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    // An Anthropic message batch's cache writes, priced above input as a call's are.
    ...(usage.cacheWriteInputTokens !== undefined && {
      cacheWriteInputTokens: usage.cacheWriteInputTokens,
    }),
    ...(usage.cacheWrite1hInputTokens !== undefined && {
      cacheWrite1hInputTokens: usage.cacheWrite1hInputTokens,
    }),
  };
  // Its web searches, billed per run as a call's are (Anthropic's server tools).
  const runs = usage.serverToolRequests;
  const counts = { ...tokens, ...(runs !== undefined && { serverToolRequests: runs }) };
  const dollars = price ? batchDollars(price, usage, counts) * priceFactor : 0;
  // The budget its hold was taken in, named as a call's usage names it (left out where it
  // is the user id), and its partition: one budget's usage settles in order.
  // The user id is the bare id, never the owner key: that may be qualified.
  const userId = recordUserId(batch);
  const budgetKey = recordBudgetKey(config, batch);
  const event = createTokenUsageRecorded(
    {
      requestId: batch.id.slice(0, 128),
      partitionKey: budgetKey,
      userId,
      ...(budgetKey !== userId && { budgetKey }),
      ...tokens,
      ...(runs?.web_search !== undefined && { webSearchRequests: runs.web_search }),
      ...(runs?.web_fetch !== undefined && { webFetchRequests: runs.web_fetch }),
      usageSource: UsageSource.Reported,
      modelRequested: batch.model,
      modelServed: batch.upstreamModel,
      provider: batch.provider,
      backend: batch.backend,
      route: batch.route,
      // The owner's tier at creation: tier budgets charge it, as a single call's usage.
      ...(batch.tier !== undefined && { tier: batch.tier }),
      // Settling the event drops the batch's hold: its spend replaces its estimate.
      ...(batch.reservationId !== undefined && { reservationId: batch.reservationId }),
      costDollars: dollars,
      weightedTokenCost: route
        ? weightedTokens(route, batch.upstreamModel, counts)
        : counts.inputTokens + counts.outputTokens,
      cacheHit: false,
      operation: 'batch',
    },
    { eventId: batchEventId(batch.id) },
  );
  return { event, dollars, priced: price !== undefined };
}

/**
 * The batch's price: a long-prompt tier prices one request by its own prompt, so with
 * tiers each request is priced alone (the batch's summed input would put every request
 * past the threshold); without them, its totals (the same, in one step).
 */
function batchDollars(
  price: ModelPricing,
  usage: BatchUsage,
  counts: Parameters<typeof dollarsAt>[1],
): number {
  if (!price.tiers || price.tiers.length === 0) return dollarsAt(price, counts);
  let dollars = 0;
  for (const request of usage.perRequest) dollars += dollarsAt(price, request);
  return dollars;
}
