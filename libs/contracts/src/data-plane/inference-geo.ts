import type { JsonObject } from './data-plane.types';

// A Messages client's `inference_geo` (data residency: "us" keeps Claude on US
// infrastructure) rides in the canonical request's provider_extras. Only Anthropic's own
// API takes it; Bedrock, Vertex AI and the rest run where their endpoint's region is.

/** Anthropic's default geography, which asks nothing of any backend. */
export const GLOBAL_INFERENCE_GEO = 'global';

/**
 * The geography a canonical request asks to be kept in (`provider_extras.inference_geo`),
 * undefined for none or the default "global". Reads the field only: the adapters check it.
 */
export function inferenceGeoAsked(body: JsonObject): string | undefined {
  const extras = body.provider_extras;
  if (typeof extras !== 'object' || extras === null || Array.isArray(extras)) return undefined;
  const geo = (extras as JsonObject).inference_geo;
  return typeof geo === 'string' && geo !== '' && geo !== GLOBAL_INFERENCE_GEO ? geo : undefined;
}
