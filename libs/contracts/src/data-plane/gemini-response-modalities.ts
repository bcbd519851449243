import type { JsonObject } from './data-plane.types';

// A Gemini client's generationConfig.responseModalities (["TEXT", "IMAGE"] for an image
// model such as gemini-2.5-flash-image), carried in the canonical request's
// `provider_extras` as sent: Gemini and Vertex Gemini backends take it. Asking for IMAGE
// is asking for an answer only they can make, so the router sends such a request to those
// backends only, as it does Gemini's built-in tools; TEXT alone is every backend's answer.

/** Where the canonical request carries the response modalities asked for. */
export const GEMINI_MODALITIES_EXTRA = 'response_modalities';

/** The output modalities the gateway serves (AUDIO is Gemini's Live API's, not served). */
export const SERVED_RESPONSE_MODALITIES: ReadonlySet<string> = new Set(['TEXT', 'IMAGE']);

/** Whether a canonical request asks for image output (IMAGE in its response modalities). */
export function asksImageOutput(body: JsonObject): boolean {
  const extras = body.provider_extras;
  if (typeof extras !== 'object' || extras === null || Array.isArray(extras)) return false;
  const modalities = (extras as JsonObject)[GEMINI_MODALITIES_EXTRA];
  return Array.isArray(modalities) && modalities.includes('IMAGE');
}
