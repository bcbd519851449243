import { encodedModelName } from '../core/path-segment';

/** Which publisher serves a model on Vertex AI, and so which wire format it speaks. */
export type VertexPublisher = 'google' | 'anthropic';

/** The methods each publisher's models answer on. */
export type VertexMethod =
  'generateContent' | 'streamGenerateContent' | 'rawPredict' | 'streamRawPredict' | 'predict';

export interface VertexModel {
  readonly publisher: VertexPublisher;
  /** The model id as Vertex names it ("gemini-2.5-flash", "claude-sonnet-4-5@20250929"). */
  readonly id: string;
}

/**
 * The publisher of a backend's model: Claude models are Anthropic's, any other Google's.
 * A full "publishers/{publisher}/models/{id}" name says so itself.
 */
export function vertexModel(model: string): VertexModel {
  const named = /^publishers\/(google|anthropic)\/models\/(.+)$/.exec(model);
  if (named) return { publisher: named[1] as VertexPublisher, id: named[2] };
  return { publisher: /^claude-/i.test(model) ? 'anthropic' : 'google', id: model };
}

/** Google's multi-region locations, each served from a host of its own. */
const MULTI_REGIONS: ReadonlySet<string> = new Set(['us', 'eu']);

/**
 * Vertex AI's endpoint for a location: global has no regional prefix, and the multi-region
 * locations (us, eu) have their own hosts (`aiplatform.us.rep.googleapis.com`).
 */
export function vertexOrigin(location: string): string {
  if (location === 'global') return 'https://aiplatform.googleapis.com';
  if (MULTI_REGIONS.has(location)) return `https://aiplatform.${location}.rep.googleapis.com`;
  return `https://${location}-aiplatform.googleapis.com`;
}

/**
 * The URL of one model method in a project and location. `baseUrl` (a private endpoint,
 * a test's fake) replaces the host, with or without a trailing /v1.
 */
export function vertexModelUrl(
  placement: { readonly project: string; readonly location: string },
  model: VertexModel,
  method: VertexMethod,
  baseUrl?: string,
): string {
  const base = (baseUrl ?? vertexOrigin(placement.location))
    .replace(/\/+$/, '')
    .replace(/\/v1$/, '');
  // "@" (Claude's version suffix) stays as Vertex documents it; the rest is path-encoded.
  const id = encodedModelName(model.id).replace(/%40/g, '@');
  const stream = method === 'streamGenerateContent' ? '?alt=sse' : '';
  return (
    `${base}/v1/projects/${encodeURIComponent(placement.project)}` +
    `/locations/${placement.location}/publishers/${model.publisher}/models/${id}:${method}${stream}`
  );
}
