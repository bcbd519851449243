// Anthropic's price for data residency: a call kept on US infrastructure
// (`inference_geo: "us"`, which Claude Opus 4.6 and later models take and older ones
// refuse) bills every token at 1.1 times the model's rates, input, output, cache writes
// and reads alike. Per-search fees are not tokens and stay as they are.

/** What US-only inference multiplies a call's token price by. */
export const US_INFERENCE_MULTIPLIER = 1.1;

const US_ONLY = 'us';

/**
 * The token price's factor for where the call ran (`TokenCounts.inferenceGeo`):
 * US_INFERENCE_MULTIPLIER for `us`, else 1 (the default `global`, or none named).
 */
export function inferenceGeoFactor(geo: string | undefined): number {
  return geo === US_ONLY ? US_INFERENCE_MULTIPLIER : 1;
}
